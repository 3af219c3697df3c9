"""``manage.py sessionguard_purge_events``: apply the audit trail's retention.

Deletes events older than ``SESSIONGUARD_EVENT_RETENTION`` (or
``--older-than DAYS``), oldest first, in batches of known ids, so memory stays
flat and no statement locks the table for long. Meant for a daily cron line.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import router
from django.utils import timezone
from django.utils.translation import gettext as _

from django_sessionguard.conf import conf
from django_sessionguard.management.commands._arguments import (
    DEFAULT_BATCH_SIZE,
    add_batch_size,
    batch_size,
)
from django_sessionguard.models import SessionEvent
from django_sessionguard.progress import Progress


class Command(BaseCommand):
    help = (
        "Delete audit events older than SESSIONGUARD_EVENT_RETENTION "
        "(or --older-than DAYS), in batches."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            metavar="DAYS",
            default=None,
            help="Delete events older than this many days (default: the retention).",
        )
        add_batch_size(parser)
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only count what would be deleted.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        size = batch_size(options) or DEFAULT_BATCH_SIZE
        verbosity: int = options["verbosity"]
        cutoff = timezone.now() - self._age(options.get("older_than"))
        old = SessionEvent.objects.filter(timestamp__lt=cutoff)
        if options.get("dry_run"):
            if verbosity >= 1:
                self.stdout.write(
                    _("Would delete %(count)d events older than %(cutoff)s.")
                    % {"count": old.count(), "cutoff": cutoff.isoformat()}
                )
            return
        progress = Progress.for_command(
            self.stdout,
            _("Deleting events"),
            old.count() if Progress.wanted(self.stdout, verbosity) else None,
            verbosity,
        )
        using = router.db_for_write(SessionEvent)
        total = 0
        while True:
            # Oldest first (the timestamp index): the ids of one batch, then one
            # DELETE of exactly those rows.
            ids = list(old.order_by("timestamp").values_list("pk", flat=True)[:size])
            if not ids:
                break
            deleted, _by_model = (
                SessionEvent.objects.using(using).filter(pk__in=ids).delete()
            )
            total += deleted
            progress.advance(deleted)
            if verbosity >= 2:
                self.stdout.write(
                    _("Deleted %(count)d events (%(total)d so far).")
                    % {"count": deleted, "total": total}
                )
            if len(ids) < size:
                break
        progress.finish()
        if verbosity >= 1:
            self.stdout.write(
                _("Deleted %(total)d events older than %(cutoff)s.")
                % {"total": total, "cutoff": cutoff.isoformat()}
            )

    @staticmethod
    def _age(older_than: object) -> timedelta:
        if older_than is not None:
            if (
                isinstance(older_than, bool)
                or not isinstance(older_than, int)
                or older_than < 0
            ):
                raise CommandError(
                    _(
                        "--older-than must be a whole number of days, 0 or more, "
                        "not %(value)r."
                    )
                    % {"value": older_than}
                )
            return timedelta(days=older_than)
        try:
            retention = conf.EVENT_RETENTION
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if retention is None:
            raise CommandError(
                _(
                    "SESSIONGUARD_EVENT_RETENTION is None: events are kept forever "
                    "and nothing is purged. Pass --older-than DAYS to purge anyway."
                )
            )
        return timedelta(seconds=retention)
