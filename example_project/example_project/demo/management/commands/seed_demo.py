"""``manage.py seed_demo``: the demo accounts and their nine days, then what to open.

Idempotent by starting over: a second run ends the demo accounts' sessions
(yours too, if you signed in as one of them) and the anonymous ones, deletes
their events, resets their passwords and replays the same story, so the
counts come out the same.
Everything happens in one transaction: a run that fails leaves the previous
demo data as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from django_sessionguard.lifecycle import idle_timeout_for
from django_sessionguard.limits import max_sessions_for
from example_project.demo import records
from example_project.demo.accounts import ACCOUNTS, STAFF, ensure_account
from example_project.demo.clock import virtual_time
from example_project.demo.story import Story


def base_url(addr: str) -> str:
    """``http://host:port`` for a ``runserver`` address ("8000", "0.0.0.0:8000"...)."""
    host, _sep, port = addr.rpartition(":")
    if host in ("", "0.0.0.0", "[::]"):  # noqa: S104 (naming it, not binding)
        host = "127.0.0.1"
    return f"http://{host}:{port or '8000'}"


@contextmanager
def event_log_level(level: int) -> Iterator[None]:
    """Set the app's event logger's level for a block (the story logs ~80 events)."""
    logger = logging.getLogger("django_sessionguard")
    previous = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(previous)


class Command(BaseCommand):
    help = _(
        "Create the demo accounts (alice, bob, carol, staff) and replay nine days "
        "of their sessions and events through the site. Run again, it starts over."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--addr",
            default="127.0.0.1:8000",
            help=_("Where the demo is served, for the printed URLs."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity: int = options["verbosity"]
        level = logging.INFO if verbosity > 1 else logging.WARNING
        with event_log_level(level), transaction.atomic():
            users = {account.username: ensure_account(account) for account in ACCOUNTS}
            ended, deleted = records.clear(users.values())
            with virtual_time() as clock:
                Story(clock, users).tell()
        if verbosity:
            self.report(options["addr"], users, ended, deleted)

    def report(
        self, addr: str, users: dict[str, Any], ended: int, deleted: int
    ) -> None:
        write = self.stdout.write
        write("")
        if ended or deleted:
            write(
                _(
                    "Demo data reseeded: %(sessions)d sessions (the demo accounts' "
                    "and anonymous ones) and %(events)d events were replaced."
                )
                % {"sessions": ended, "events": deleted}
            )
        else:
            write(_("Demo data created."))
        live = records.live_sessions(users.values())
        events = records.events(users.values())
        write(
            _("Recorded: %(live)s; %(events)s.")
            % {
                "live": ngettext(
                    "%(count)d live session", "%(count)d live sessions", live.total()
                )
                % {"count": live.total()},
                "events": ngettext(
                    "%(count)d event", "%(count)d events", events.total()
                )
                % {"count": events.total()},
            }
        )
        deadline = records.first_idle_deadline(users.values())
        if deadline is not None:
            minutes = max(0, int((deadline - timezone.now()).total_seconds() // 60))
            write(
                ngettext(
                    "The seeded sessions stay live for another %(count)d minute "
                    "(the idle timeout counts from their last request); run make "
                    "demo again to reseed.",
                    "The seeded sessions stay live for another %(count)d minutes "
                    "(the idle timeout counts from their last request); run make "
                    "demo again to reseed.",
                    minutes,
                )
                % {"count": minutes}
            )
        write("")
        write(self.style.MIGRATE_HEADING(_("Sign in as (username / password):")))
        for account in ACCOUNTS:
            sessions = live[account.username]
            write(
                f"  {account.username:<6} / {account.password:<11} "
                f"{account.role} ({self.policy(users[account.username], sessions)})"
            )
        write("")
        write(self.style.MIGRATE_HEADING(_("Open:")))
        root = base_url(addr)
        pages = [
            (_("Home"), reverse("home")),
            (_("Log in"), reverse("login")),
            (_("Your devices"), reverse("sessionguard:list")),
            (_("Admin"), reverse("admin:index")),
            (
                _("Sessions dashboard (as %(user)s)") % {"user": STAFF.username},
                reverse("admin:django_sessionguard_session_dashboard"),
            ),
        ]
        for label, path in pages:
            write(f"  {label:<34} {root}{path}")
        write("")

    def policy(self, user: Any, live: int) -> str:
        limit = max_sessions_for(user)
        idle = idle_timeout_for(user)
        parts = [
            ngettext("%(count)d live session", "%(count)d live sessions", live)
            % {"count": live}
        ]
        if limit is not None:
            parts.append(_("limit %(limit)d") % {"limit": limit})
        if idle is not None:
            parts.append(_("idle timeout %(minutes)d min") % {"minutes": idle // 60})
        return ", ".join(parts)
