"""``manage.py sessionguard_revoke``: end a user's sessions from the shell.

Goes through :mod:`django_sessionguard.services`, like the admin and the
devices page: rows and cached copies go, and each ending is recorded as
revoked by the system (no person acted), with the ``--reason`` given. If the
session cache cannot be reached nothing is ended and the command fails with
a message saying so (exit status 1).
"""

from __future__ import annotations

import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from django_sessionguard import services
from django_sessionguard.faults import SessionCacheUnavailable
from django_sessionguard.keys import REFERENCE_LENGTH
from django_sessionguard.management.commands._arguments import add_user, find_user
from django_sessionguard.models import Session

_REFERENCE = re.compile(rf"[0-9a-f]{{{REFERENCE_LENGTH}}}")


class Command(BaseCommand):
    help = (
        "End all sessions of a user, or all but one. Sessions are named by their "
        "reference (shown in the admin and on the devices page), never by key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_user(parser)
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument(
            "--all", action="store_true", help="End every session of the user."
        )
        which.add_argument(
            "--others-than",
            metavar="REFERENCE",
            help="End every session of the user except the one with this reference.",
        )
        parser.add_argument(
            "--reason",
            default="",
            help="Why, recorded on each session's audit event.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = find_user(options)
        keep = options.get("others_than")
        if not options.get("all") and not keep:
            raise CommandError(_("Pass --all or --others-than REFERENCE."))
        if options.get("all") and keep:
            raise CommandError(_("Pass either --all or --others-than, not both."))
        reason: str = options.get("reason") or ""
        if keep:
            self._check_reference(user, keep)
        try:
            if keep:
                ended = services.revoke_other_sessions(user, keep, reason=reason)
            else:
                ended = services.revoke_all_sessions(user, reason=reason)
        except SessionCacheUnavailable:
            raise CommandError(
                _(
                    "The session cache cannot be reached, so no session was ended "
                    "and nothing was recorded. Run the command again once it "
                    "answers."
                )
            ) from None
        if options["verbosity"] >= 1:
            self.stdout.write(
                ngettext(
                    "Ended %(count)d session of %(user)s.",
                    "Ended %(count)d sessions of %(user)s.",
                    ended,
                )
                % {"count": ended, "user": user.get_username()}
            )

    @staticmethod
    def _check_reference(user: Any, reference: str) -> None:
        """Refuse a reference that is not one of this user's live sessions.

        A mistyped reference must not end *all* of the user's sessions.
        """
        if not _REFERENCE.fullmatch(reference):
            raise CommandError(
                _(
                    "%(reference)r is not a session reference (%(length)d "
                    "characters 0-9 a-f, as shown in the admin)."
                )
                % {"reference": reference, "length": REFERENCE_LENGTH}
            )
        live = Session.objects.live(user=user)
        if not live.filter(reference=reference).exists():
            raise CommandError(
                _("%(user)s has no live session with reference %(reference)s.")
                % {"user": user.get_username(), "reference": reference}
            )
