"""``manage.py clearsessions``: purge expired sessions, in batches, with progress.

Django's own command lives in ``django.contrib.sessions``, which projects using
this app do not install; this one keeps the familiar name working.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_sessionguard.backends.base import SessionGuardStore


class Command(BaseCommand):
    help = "Delete expired sessions (in batches, so the table is never locked long)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help="Rows deleted per statement (default: the engine's, 1000).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        store_class = import_module(settings.SESSION_ENGINE).SessionStore
        if not issubclass(store_class, SessionGuardStore):
            try:
                store_class.clear_expired()
            except NotImplementedError:
                raise CommandError(
                    f"Session engine {settings.SESSION_ENGINE!r} doesn't support "
                    "clearing expired sessions."
                ) from None
            return
        batch_size = options["batch_size"]
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size must be a positive number.")
        total = 0
        for deleted in store_class.iter_clear_expired(batch_size):
            total += deleted
            if options["verbosity"] >= 2:
                self.stdout.write(
                    f"Deleted {deleted} expired sessions ({total} so far)."
                )
        if options["verbosity"] >= 1:
            self.stdout.write(f"Deleted {total} expired sessions.")
