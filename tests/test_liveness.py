"""What counts as a live session: one definition, the one the middleware applies.

A session past the idle or absolute timeout, or signed in before
``SESSIONGUARD_NOT_VALID_BEFORE``, is dead before its expiry date: its next
request would end it. It is not listed on the devices page or in its JSON
API, not counted when another device is signed out, and ``clearsessions``
purges it. (The session limit: ``test_session_limit``; the admin:
``test_admin_liveness``.)

Sessions are made by signing in through the real login form at moments set
with the ``clock`` fixture, so the row, the session data and the cache all
agree, on both engines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module
from io import StringIO
from typing import Any

import pytest
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string

from django_sessionguard import services
from django_sessionguard.events import ENDING_KINDS, EventKind
from django_sessionguard.faults import SessionCacheUnavailable
from django_sessionguard.keys import hash_key, reference_for
from django_sessionguard.models import Session, SessionEvent
from tests.conftest import Clock
from tests.lifecycle_support import (
    CACHED_DB,
    browser,
    cached_entries,
    key_hash_of,
    log_in,
    reference_of,
    row_exists,
    whoami,
)

pytestmark = pytest.mark.django_db

LIST = reverse("sessionguard:list")
API_LIST = reverse("sessionguard:api-list")
OTHERS = reverse("sessionguard:revoke-others")
API_OTHERS = reverse("sessionguard:api-revoke-others")


def api_revoke(reference: str) -> str:
    return reverse("sessionguard:api-revoke", args=[reference])


def listed(client: Client) -> set[str]:
    """The references the JSON API lists for this client."""
    response = client.get(API_LIST)
    assert response.status_code == 200
    return {row["reference"] for row in response.json()["sessions"]}


def still_signed_in(client: Client) -> bool:
    """Whether the next request is still alice's (an ended one is redirected)."""
    response = client.get("/read/")
    return response.status_code == 200 and response.json()["user"] == "alice"


def ending_of(reference: str) -> tuple[str, dict[str, Any], int | None]:
    """``(kind, detail, actor id)`` of the event that recorded this session's end."""
    event = SessionEvent.objects.get(session_ref=reference, kind__in=ENDING_KINDS)
    return event.kind, event.detail, event.actor_id


@pytest.fixture
def timeouts(settings: Any) -> Any:
    settings.SESSIONGUARD_IDLE_TIMEOUT = 600
    settings.SESSIONGUARD_ABSOLUTE_TIMEOUT = 3600
    return settings


# -- the definition, in SQL ---------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """A session row, its times in seconds before now (``None``: unknown)."""

    name: str
    signed_in: bool
    authenticated: float | None
    active: float
    expires_in: float = 86_400


#: With idle 600 s, absolute 3600 s and a cut-off 7200 s ago.
ROWS_AND_ENDINGS = [
    (Row("fresh", True, 100, 50), ""),
    (Row("idle", True, 1000, 700), EventKind.EXPIRED_IDLE),
    # Signing in (or re-authenticating) is activity too.
    (Row("re-authenticated", True, 300, 900), ""),
    (Row("active but signed in too long ago", True, 3700, 10), "expired_absolute"),
    (Row("absolute is checked before idle", True, 3700, 700), "expired_absolute"),
    (Row("before the cut-off", True, 7300, 10), EventKind.REVOKED_BY_SYSTEM),
    (Row("signed in at an unknown time", True, None, 10), EventKind.REVOKED_BY_SYSTEM),
    (Row("anonymous, inactive for days", False, None, 5 * 86_400), ""),
    (Row("anonymous, long ago", False, None, 8000), ""),
    (Row("expired", True, 100, 50, expires_in=-1), "expired"),
    (Row("anonymous and expired", False, None, 50, expires_in=-1), "expired"),
]

#: The same rows without the cut-off: an unknown sign-in time has no absolute
#: deadline, and its idle deadline counts from the last activity alone.
WITHOUT_CUT_OFF = {
    "before the cut-off": EventKind.EXPIRED_ABSOLUTE,
    "signed in at an unknown time": "",
}


def make_rows(user: Any, rows: list[Row]) -> dict[str, str]:
    """Store ``rows`` (owned by ``user`` when signed in): name -> key hash."""
    now = timezone.now()
    made = {}
    for row in rows:
        key_hash = hash_key(get_random_string(32, VALID_KEY_CHARS))
        Session.objects.create(
            key_hash=key_hash,
            reference=reference_for(key_hash),
            session_data="",
            expire_date=now + timedelta(seconds=row.expires_in),
            user=user if row.signed_in else None,
            authenticated_at=None
            if row.authenticated is None
            else now - timedelta(seconds=row.authenticated),
            last_activity=now - timedelta(seconds=row.active),
        )
        made[row.name] = key_hash
    return made


@pytest.mark.parametrize("cut_off", [True, False], ids=["cut-off", "no-cut-off"])
def test_live_dead_and_ending_agree_row_by_row(
    timeouts: Any, user: Any, cut_off: bool
) -> None:
    if cut_off:
        timeouts.SESSIONGUARD_NOT_VALID_BEFORE = timezone.now() - timedelta(hours=2)
    made = make_rows(user, [row for row, _ending in ROWS_AND_ENDINGS])
    expected = {
        row.name: ending if cut_off else WITHOUT_CUT_OFF.get(row.name, ending)
        for row, ending in ROWS_AND_ENDINGS
    }
    name_of = {key_hash: name for name, key_hash in made.items()}

    endings = {
        name_of[key_hash]: ending
        for key_hash, ending in Session.objects.with_ending().values_list(
            "key_hash", "sessionguard_ending"
        )
    }
    live = {name_of[k] for k in Session.objects.live().values_list("pk", flat=True)}
    dead = {name_of[k] for k in Session.objects.dead().values_list("pk", flat=True)}

    assert endings == expected
    assert live == {name for name, ending in expected.items() if not ending}
    assert dead == set(made) - live
    # One user's sessions, judged with that user's timeouts: the same answer.
    mine = {
        name_of[k] for k in Session.objects.live(user=user).values_list("pk", flat=True)
    }
    assert mine == {name for name in live if "anonymous" not in name}


def test_without_timeouts_live_means_not_expired(user: Any) -> None:
    made = make_rows(user, [row for row, _ending in ROWS_AND_ENDINGS])
    live = set(Session.objects.live().values_list("pk", flat=True))
    assert live == set(Session.objects.active().values_list("pk", flat=True))
    assert len(live) == len(made) - 2


# -- the definition is the middleware's ---------------------------------------------


@pytest.fixture
def scene(timeouts: Any, user: Any, clock: Clock) -> dict[str, Client]:
    """At t = 3650 s, with idle 1800 s and absolute 3600 s: ``veteran`` signed
    in at 0 and active at 3000 (past the absolute timeout), ``idler`` signed
    in at 1000 (idle for 2650 s), ``steady`` signed in at 3000, ``viewer`` at
    3550."""
    timeouts.SESSIONGUARD_IDLE_TIMEOUT = 1800
    made = {name: browser() for name in ("veteran", "idler", "steady", "viewer")}
    log_in(made["veteran"])
    clock.advance(1000)
    log_in(made["idler"])
    clock.advance(500)
    assert whoami(made["veteran"]) == "alice"  # t = 1500
    clock.advance(1500)
    assert whoami(made["veteran"]) == "alice"  # t = 3000
    log_in(made["steady"])
    clock.advance(550)
    log_in(made["viewer"])
    clock.advance(100)
    return made


def test_listed_as_live_exactly_when_the_next_request_keeps_it(
    engine: str, scene: dict[str, Client]
) -> None:
    clients = dict(scene)
    references = {name: reference_of(client) for name, client in clients.items()}
    names = {reference: name for name, reference in references.items()}

    on_the_api = {names[reference] for reference in listed(scene["viewer"])}
    page = scene["viewer"].get(LIST).content.decode()
    on_the_page = {name for reference, name in names.items() if reference in page}
    kept = {name for name, client in clients.items() if still_signed_in(client)}

    assert on_the_api == on_the_page == kept == {"steady", "viewer"}
    assert ending_of(references["veteran"])[0] == EventKind.EXPIRED_ABSOLUTE
    assert ending_of(references["idler"])[0] == EventKind.EXPIRED_IDLE


def test_devices_page_and_api_follow_per_user_timeouts(
    engine: str, settings: Any, clock: Clock, user: Any, django_user_model: Any
) -> None:
    """A per-user callable (5 idle minutes for staff, none for others) is
    resolved for the user whose devices are listed."""
    settings.SESSIONGUARD_IDLE_TIMEOUT = "tests.lifecycle_support.idle_for_staff"
    django_user_model.objects.create_user("root", password="pw", is_staff=True)
    alice_old, root_old = browser(), browser()
    log_in(alice_old)
    log_in(root_old, "root")
    clock.advance(301)
    alice_new, root_new = browser(), browser()
    log_in(alice_new)
    log_in(root_new, "root")

    assert listed(root_new) == {reference_of(root_new)}
    assert reference_of(root_old) not in root_new.get(LIST).content.decode()
    assert listed(alice_new) == {reference_of(alice_new), reference_of(alice_old)}


def test_devices_page_hides_sessions_before_the_global_cut_off(
    engine: str, settings: Any, user: Any, clock: Clock
) -> None:
    old = browser()
    log_in(old)
    clock.advance(10)
    settings.SESSIONGUARD_NOT_VALID_BEFORE = timezone.now()
    clock.advance(1)
    new = browser()
    log_in(new)

    assert listed(new) == {reference_of(new)}
    assert reference_of(old) not in new.get(LIST).content.decode()


# -- signing other devices out counts only live ones --------------------------------


@pytest.fixture
def dead_and_live(timeouts: Any, user: Any, clock: Clock) -> dict[str, Client]:
    """``dead`` (idle for 700 s), ``other`` and ``viewer`` (both just signed in)."""
    made = {"dead": browser(), "other": browser(), "viewer": browser()}
    log_in(made["dead"])
    clock.advance(700)
    log_in(made["other"])
    log_in(made["viewer"])
    return made


def test_sign_out_all_others_counts_only_live_devices(
    engine: str, dead_and_live: dict[str, Client], user: Any
) -> None:
    viewer = dead_and_live["viewer"]

    response = viewer.post(OTHERS, follow=True)

    assert "Signed out 1 other device." in response.content.decode()
    dead, other = dead_and_live["dead"], dead_and_live["other"]
    assert ending_of(reference_of(other)) == (EventKind.REVOKED_BY_USER, {}, user.pk)
    # Ended too, recorded as what ended it: nobody revoked a dead session.
    assert ending_of(reference_of(dead)) == (
        EventKind.EXPIRED_IDLE,
        {"timeout": 600},
        None,
    )
    for client in (dead, other):
        assert not row_exists(key_hash_of(client))
        assert cached_entries(key_hash_of(client)) == []
    assert whoami(viewer) == "alice"


def test_api_sign_out_others_counts_only_live_devices(
    engine: str, dead_and_live: dict[str, Client]
) -> None:
    viewer = dead_and_live["viewer"]
    assert viewer.post(API_OTHERS).json() == {"revoked": 1}
    assert viewer.post(API_OTHERS).json() == {"revoked": 0}


def test_signing_out_a_dead_session_by_reference_finds_nothing_live(
    engine: str, dead_and_live: dict[str, Client]
) -> None:
    viewer, dead = dead_and_live["viewer"], dead_and_live["dead"]
    reference = reference_of(dead)

    response = viewer.post(api_revoke(reference))

    assert response.status_code == 404
    assert not row_exists(key_hash_of(dead))
    assert ending_of(reference)[0] == EventKind.EXPIRED_IDLE
    assert whoami(dead_and_live["other"]) == "alice"


def test_revoke_all_counts_live_sessions_and_records_the_rest_honestly(
    engine: str, dead_and_live: dict[str, Client], user: Any, django_user_model: Any
) -> None:
    staff = django_user_model.objects.create_user("staff", password="pw")

    assert services.revoke_all_sessions(user, actor=staff) == 2

    kinds = dict(
        SessionEvent.objects.filter(kind__in=ENDING_KINDS).values_list(
            "session_ref", "kind"
        )
    )
    assert kinds == {
        reference_of(dead_and_live["dead"]): EventKind.EXPIRED_IDLE,
        reference_of(dead_and_live["other"]): EventKind.REVOKED_BY_STAFF,
        reference_of(dead_and_live["viewer"]): EventKind.REVOKED_BY_STAFF,
    }


# -- clearsessions ------------------------------------------------------------------


def test_clearsessions_purges_sessions_past_a_timeout_with_their_cached_copies(
    engine: str, scene: dict[str, Client], clock: Clock
) -> None:
    anonymous = browser()
    anonymous.get("/write/", {"value": 1})
    clock.advance(1000)  # no timeout for anonymous sessions
    fresh = browser()
    log_in(fresh)
    dead = [key_hash_of(scene[name]) for name in ("veteran", "idler")]
    out = StringIO()

    call_command("clearsessions", stdout=out)

    assert out.getvalue() == "Deleted 2 expired sessions.\n"
    for key_hash in dead:
        assert not row_exists(key_hash)
        assert cached_entries(key_hash) == []
    assert [whoami(scene[name]) for name in ("steady", "viewer")] == ["alice"] * 2
    assert whoami(fresh) == "alice"
    assert anonymous.get("/read/").json()["counter"] == 1


def test_clearsessions_batches_each_deadline(timeouts: Any, user: Any) -> None:
    past = Row("idle", True, 1000, 700)
    make_rows(user, [past, past, past, Row("fresh", True, 100, 50)])
    out = StringIO()

    with CaptureQueriesContext(connection) as queries:
        call_command("clearsessions", "--batch-size", "2", verbosity=2, stdout=out)

    assert out.getvalue().splitlines() == [
        "Deleted 2 expired sessions (2 so far).",
        "Deleted 1 expired sessions (3 so far).",
        "Deleted 3 expired sessions.",
    ]
    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    # Expired rows (none), past the absolute timeout (none), then idle ones:
    # each batch one bounded SELECT and one DELETE.
    assert [s for s in statements if s in ("SELECT", "DELETE")] == [
        "SELECT",
        "SELECT",
        "SELECT",
        "DELETE",
        "SELECT",
        "DELETE",
    ]
    assert Session.objects.count() == 1


def test_clearsessions_leaves_per_user_timeouts_to_the_expiry_date(
    settings: Any, clock: Clock, django_user_model: Any
) -> None:
    settings.SESSIONGUARD_IDLE_TIMEOUT = "tests.lifecycle_support.idle_for_staff"
    django_user_model.objects.create_user("root", password="pw", is_staff=True)
    root = browser()
    log_in(root, "root")
    clock.advance(301)

    call_command("clearsessions", stdout=StringIO())

    assert row_exists(key_hash_of(root))
    assert root.get("/read/").status_code == 302  # its next request ends it


def test_revoke_command_keeps_only_a_live_session(
    engine: str, dead_and_live: dict[str, Client]
) -> None:
    """``--others-than`` must name a live session: keeping a dead one would
    end every session the user can still use."""
    dead = reference_of(dead_and_live["dead"])
    with pytest.raises(CommandError, match="alice has no live session with"):
        call_command("sessionguard_revoke", user="alice", others_than=dead)
    assert Session.objects.count() == 3


def test_clearsessions_keeps_dead_sessions_while_the_cache_is_unreachable(
    settings: Any, user: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Their cached copies must go with them: with the cache down, the rows
    stay (and still end on their next request), and cron hears why."""
    settings.SESSION_ENGINE = CACHED_DB
    settings.SESSIONGUARD_IDLE_TIMEOUT = 600
    idle = browser()
    log_in(idle)
    make_rows(user, [Row("expired", True, 100, 50, expires_in=-1)])
    clock.advance(601)
    store = import_module(CACHED_DB).SessionStore

    def unreachable(cls: Any, key_hashes: list[str]) -> None:
        raise SessionCacheUnavailable("the session cache is down")

    stopped = "Deleted 1 expired sessions, then stopped"
    with monkeypatch.context() as patch:
        patch.setattr(store, "evict_cached", classmethod(unreachable))
        with pytest.raises(CommandError, match=stopped):
            call_command("clearsessions", stdout=StringIO())

    assert row_exists(key_hash_of(idle))
    assert Session.objects.count() == 1
    assert idle.get("/read/").status_code == 302
