"""``manage.py sessionguard_erase_user``: end a user's sessions and erase their history.

For a privacy request: the command line of
:func:`django_sessionguard.services.erase_user_history`, which ends every
session of the user (rows and cached copies gone everywhere), then deletes every
audit event about the user, including the ones the revocation just wrote.
Events in which the user only acted on someone else's session stay in that
person's history. One summary line (counts only) goes to the
``django_sessionguard`` log, so the erasure itself leaves a trace.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from django_sessionguard import services
from django_sessionguard.management.commands._arguments import (
    DEFAULT_BATCH_SIZE,
    add_batch_size,
    add_user,
    batch_size,
    find_user,
)
from django_sessionguard.models import SessionEvent


class Command(BaseCommand):
    help = "End all sessions of a user and delete their session history (events)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_user(parser)
        add_batch_size(parser)
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Do not ask for confirmation.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        size = batch_size(options) or DEFAULT_BATCH_SIZE
        user = find_user(options)
        username = user.get_username()
        events = SessionEvent.objects.filter(user=user)
        if options.get("interactive", True):
            answer = input(
                _(
                    "This ends every session of %(user)s and permanently deletes "
                    "%(count)d audit events about them.\nType 'yes' to continue: "
                )
                % {"user": username, "count": events.count()}
            )
            if answer != "yes":
                raise CommandError(_("Erasure cancelled."))
        erasure = services.erase_user_history(user, batch_size=size)
        if options["verbosity"] >= 1:
            self.stdout.write(
                _(
                    "Ended %(sessions)d sessions of %(user)s and deleted "
                    "%(events)d events."
                )
                % {
                    "sessions": erasure.sessions_ended,
                    "events": erasure.events_deleted,
                    "user": username,
                }
            )
