"""``manage.py clearsessions``: purge expired sessions, in batches, with progress.

Django's own command lives in ``django.contrib.sessions``, which projects using
this app do not install; this one keeps the familiar name (and cron lines)
working. With one of our engines, expired rows go in batches of
``--batch-size``: each batch is one short ``DELETE`` of known primary keys, so
memory stays flat and no statement holds locks on the whole table. Signed-in
sessions past the idle or absolute timeout or the "not valid before" cut-off
go too (their cookies are dead already), with their cached copies. Any other
engine is asked to ``clear_expired()``, as Django's command does.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from django_sessionguard.backends.base import SessionGuardStore
from django_sessionguard.faults import SessionCacheUnavailable
from django_sessionguard.management.commands._arguments import (
    add_batch_size,
    batch_size,
)
from django_sessionguard.progress import Progress


class Command(BaseCommand):
    help = (
        "Delete expired sessions: in batches (so the table is never locked long) "
        "with one of django-sessionguard's engines, otherwise as Django does."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        # None: the engine's own batch size (SessionStore.clear_expired_batch_size).
        add_batch_size(parser, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        size = batch_size(options)
        verbosity: int = options["verbosity"]
        store_class = import_module(settings.SESSION_ENGINE).SessionStore
        if not (
            isinstance(store_class, type) and issubclass(store_class, SessionGuardStore)
        ):
            self._clear_other_engine(store_class, size, verbosity)
            return
        progress = Progress.for_command(
            self.stdout,
            _("Deleting expired sessions"),
            self._count_expired(store_class)
            if Progress.wanted(self.stdout, verbosity)
            else None,
            verbosity,
        )
        total = 0
        try:
            for deleted in store_class.iter_clear_expired(size):
                total += deleted
                progress.advance(deleted)
                if verbosity >= 2:
                    self.stdout.write(
                        _("Deleted %(count)d expired sessions (%(total)d so far).")
                        % {"count": deleted, "total": total}
                    )
        except SessionCacheUnavailable:
            # Only sessions past a timeout have cached copies to end with
            # them; the batch that could not be ended was kept whole.
            progress.finish()
            raise CommandError(
                _(
                    "Deleted %(total)d expired sessions, then stopped: the session "
                    "cache cannot be reached, so sessions past a timeout (whose "
                    "cached copies must go with them) were kept. Run the command "
                    "again once it answers."
                )
                % {"total": total}
            ) from None
        progress.finish()
        if verbosity >= 1:
            self.stdout.write(
                _("Deleted %(total)d expired sessions.") % {"total": total}
            )

    @staticmethod
    def _count_expired(store_class: type[SessionGuardStore]) -> int:
        # Only for the progress bar's total: the rows iter_clear_expired()
        # deletes, expired or past a timeout (see SessionQuerySet.dead).
        model = store_class.get_model_class()
        count: int = model.objects.dead(timezone.now()).count()
        return count

    def _clear_other_engine(
        self, store_class: Any, size: int | None, verbosity: int
    ) -> None:
        if size is not None and verbosity >= 1:
            self.stderr.write(
                _(
                    "--batch-size applies to django-sessionguard's engines only; "
                    "%(engine)s clears expired sessions its own way."
                )
                % {"engine": settings.SESSION_ENGINE}
            )
        try:
            store_class.clear_expired()
        except NotImplementedError:
            raise CommandError(
                _(
                    "Session engine '%(engine)s' doesn't support clearing expired "
                    "sessions."
                )
                % {"engine": settings.SESSION_ENGINE}
            ) from None
