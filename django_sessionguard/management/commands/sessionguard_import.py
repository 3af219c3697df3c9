"""``manage.py sessionguard_import``: bring ``django.contrib.sessions`` sessions over.

See :mod:`django_sessionguard.importer` for what is copied and how. Run it
right after switching ``SESSION_ENGINE``; running it again is safe and cheap
(copied sessions are skipped without being decoded).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from django_sessionguard.importer import (
    DEFAULT_TABLE,
    SOURCE_ENGINES,
    CannotImport,
    ImportResult,
    SessionImporter,
    log_result,
)
from django_sessionguard.management.commands._arguments import (
    DEFAULT_BATCH_SIZE,
    add_batch_size,
    batch_size,
)
from django_sessionguard.progress import Progress


class Command(BaseCommand):
    help = (
        "Copy live sessions from django.contrib.sessions' table into "
        "django-sessionguard's, so switching engines signs nobody out. "
        "Idempotent: sessions already copied are skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from-engine",
            default=SOURCE_ENGINES[0],
            help=(
                "The engine the sessions were written by, which decodes them "
                f"(default: {SOURCE_ENGINES[0]}; {SOURCE_ENGINES[1]} uses the same "
                "table, which is complete because it writes through)."
            ),
        )
        parser.add_argument(
            "--table",
            default=DEFAULT_TABLE,
            help=f"The source table (default: {DEFAULT_TABLE}).",
        )
        parser.add_argument(
            "--database",
            default=None,
            help="The database alias holding the source table (default: ours).",
        )
        add_batch_size(parser)
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Read and decode everything, write nothing, report what would be.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        size = batch_size(options) or DEFAULT_BATCH_SIZE
        verbosity: int = options["verbosity"]
        dry_run = bool(options.get("dry_run"))
        table: str = options.get("table") or DEFAULT_TABLE
        try:
            importer = SessionImporter(
                source_engine=options.get("from_engine") or SOURCE_ENGINES[0],
                table=table,
                using=options.get("database"),
                batch_size=size,
                dry_run=dry_run,
            )
        except CannotImport as exc:
            raise CommandError(str(exc)) from None
        progress = Progress.for_command(
            self.stdout,
            _("Importing sessions"),
            importer.count() if Progress.wanted(self.stdout, verbosity) else None,
            verbosity,
        )
        total = ImportResult()
        for result in importer.batches():
            total.add(result)
            progress.advance(result.read)
            if verbosity >= 2:
                self.stdout.write(
                    _("Batch %(batch)d: %(imported)d imported, %(read)d read.")
                    % {
                        "batch": total.batches,
                        "imported": result.imported,
                        "read": result.read,
                    }
                )
        progress.finish()
        log_result(total, table=table, dry_run=dry_run)
        if verbosity >= 1:
            self._report(total, dry_run)

    def _report(self, total: ImportResult, dry_run: bool) -> None:
        headline = (
            _("Would import %(count)d sessions (dry run: nothing written).")
            if dry_run
            else _("Imported %(count)d sessions.")
        )
        self.stdout.write(headline % {"count": total.imported})
        skipped = [
            (total.already_present, _("already imported")),
            (total.unreadable, _("empty or unreadable (another SECRET_KEY?)")),
            (total.malformed_key, _("keys our engine would not accept")),
            (total.unknown_user, _("signed in as a user who no longer exists")),
        ]
        for count, why in skipped:
            if count:
                self.stdout.write(
                    _("Skipped %(count)d: %(why)s.") % {"count": count, "why": why}
                )
