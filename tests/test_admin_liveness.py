"""The admin says "Active" only of sessions the next request would not end.

Sessions past the idle or absolute timeout, or signed in before
``SESSIONGUARD_NOT_VALID_BEFORE``, show as expired in the sessions list (with
what ended them as the tooltip), fall under the "expired" filter, are left
out of the dashboard's figures and of the user page, and offer nothing to
revoke. Users sign in through the real login form at moments set with the
``clock`` fixture.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from django_sessionguard.events import ENDING_KINDS, EventKind
from django_sessionguard.models import SessionEvent
from tests.conftest import Clock
from tests.lifecycle_support import browser, log_in, reference_of, whoami
from tests.test_admin_helpers import (
    DASHBOARD,
    SESSIONS,
    change_url,
    make_superuser,
    make_user,
    revoke_user_url,
    staff_client,
    user_change_url,
)

pytestmark = pytest.mark.django_db

#: The staff member's session load is one query on ``db``, none on ``cached_db``.
SESSION_LOAD = {
    "django_sessionguard.backends.db": 1,
    "django_sessionguard.backends.cached_db": 0,
}


def references(html: str) -> set[str]:
    """The sessions a changelist page lists."""
    return set(
        re.findall(r'href="/admin/django_sessionguard/session/([0-9a-f]{32})/', html)
    )


def status_of(html: str, reference: str) -> tuple[str, str | None]:
    """``(status, tooltip)`` of one session's row in a changelist page."""
    row = re.search(rf"<tr>(?:(?!</tr>).)*{reference}(?:(?!</tr>).)*</tr>", html, re.S)
    assert row is not None, f"{reference} is not listed"
    found = re.search(
        r'<span class="sg-status sg-status--\w+"(?: title="([^"]*)")?>([^<]*)</span>',
        row.group(0),
    )
    assert found is not None
    return found.group(2), found.group(1)


@pytest.fixture
def scene(engine: str, settings: Any, clock: Clock) -> dict[str, Any]:
    """At t = 3650 s, with idle 600 s and absolute 3600 s: alice's ``veteran``
    (signed in at 0, active every 500 s: past the absolute timeout), her
    ``idler`` (signed in at 3000: idle), her ``steady`` one and bob's (signed
    in at 3600), an anonymous visitor from t = 0, and the staff member."""
    settings.SESSIONGUARD_IDLE_TIMEOUT = 600
    settings.SESSIONGUARD_ABSOLUTE_TIMEOUT = 3600
    alice, bob = make_user("alice"), make_user("bob")
    made: dict[str, Any] = {"alice": alice, "bob": bob}
    clients = {name: browser() for name in ("veteran", "idler", "steady", "bob")}
    anonymous = browser()
    anonymous.get("/write/", {"value": 1})
    log_in(clients["veteran"])
    for _ in range(7):
        clock.advance(500)
        assert whoami(clients["veteran"]) == "alice"  # t = 500 ... 3500
        if _ == 5:
            log_in(clients["idler"])  # t = 3000
    clock.advance(100)
    log_in(clients["steady"])
    log_in(clients["bob"], "bob")
    clock.advance(50)
    made["root"] = staff_client(make_superuser())
    made["refs"] = {name: reference_of(client) for name, client in clients.items()}
    made["clients"] = clients
    return made


def test_list_shows_dead_sessions_as_expired_and_why(scene: dict[str, Any]) -> None:
    html = scene["root"].get(SESSIONS).content.decode()
    refs = scene["refs"]

    assert status_of(html, refs["veteran"]) == ("Expired", "Expired (maximum duration)")
    assert status_of(html, refs["idler"]) == ("Expired", "Expired (inactivity)")
    assert status_of(html, refs["steady"]) == ("Active", None)
    assert status_of(html, refs["bob"]) == ("Active", None)
    assert html.count("sg-status--active") == 4  # with the visitor and the staff


def test_status_filter_follows_the_timeouts(scene: dict[str, Any]) -> None:
    root, refs = scene["root"], scene["refs"]

    active = references(root.get(SESSIONS, {"status": "active"}).content.decode())
    expired = references(root.get(SESSIONS, {"status": "expired"}).content.decode())

    assert expired == {refs["veteran"], refs["idler"]}
    assert {refs["steady"], refs["bob"]} <= active
    assert len(active) == 4
    assert not active & expired


def test_dashboard_counts_only_live_sessions(scene: dict[str, Any]) -> None:
    stats = scene["root"].get(DASHBOARD).context["stats"]

    assert stats["active_sessions"] == 4
    assert stats["signed_in_sessions"] == 3
    assert stats["anonymous_sessions"] == 1
    assert stats["active_users"] == 3
    assert ("alice", 1) in [(name, n) for _pk, name, n in stats["top_users"]]


def test_user_page_lists_only_live_sessions(scene: dict[str, Any]) -> None:
    html = scene["root"].get(user_change_url(scene["alice"])).content.decode()
    assert references(html) == {scene["refs"]["steady"]}


def test_a_dead_session_offers_nothing_to_revoke(scene: dict[str, Any]) -> None:
    root, refs = scene["root"], scene["refs"]

    dead = root.get(change_url(refs["idler"])).content.decode()
    live = root.get(change_url(refs["steady"])).content.decode()

    assert "Revoke this session" not in dead
    assert "sg-status--expired" in dead
    assert "Revoke this session" in live


def test_sessions_before_the_global_cut_off_are_expired(
    engine: str, settings: Any, clock: Clock
) -> None:
    alice = make_user("alice")
    early, anonymous = browser(), browser()
    log_in(early)
    anonymous.get("/write/", {"value": 1})
    clock.advance(10)
    settings.SESSIONGUARD_NOT_VALID_BEFORE = timezone.now()
    clock.advance(1)
    late = browser()
    log_in(late)
    root = staff_client(make_superuser())

    html = root.get(SESSIONS).content.decode()
    stats = root.get(DASHBOARD).context["stats"]

    assert status_of(html, reference_of(early)) == (
        "Expired",
        "Started before the cut-off",
    )
    assert status_of(html, reference_of(late))[0] == "Active"
    # Anonymous sessions have no cut-off: the setting ends signed-in ones.
    assert stats["anonymous_sessions"] == 1
    assert stats["signed_in_sessions"] == 2  # late, and the staff member's
    page = root.get(user_change_url(alice)).content.decode()
    assert reference_of(early) not in page
    assert reference_of(late) in page


def test_per_user_timeouts_apply_where_the_user_is_known(
    engine: str, settings: Any, clock: Clock
) -> None:
    """All users' lists apply no timeout set as a per-user callable (documented);
    one user's page does."""
    settings.SESSIONGUARD_IDLE_TIMEOUT = "tests.lifecycle_support.idle_for_staff"
    ops = make_user("ops", staff=True)
    idle_staff = browser()
    log_in(idle_staff, "ops")
    clock.advance(301)
    root = staff_client(make_superuser())
    reference = reference_of(idle_staff)

    html = root.get(SESSIONS, {"status": "active"}).content.decode()
    page = root.get(user_change_url(ops)).content.decode()

    assert reference in references(html)
    assert reference not in page
    assert idle_staff.get("/read/").status_code == 302  # its next request ends it


@pytest.mark.parametrize("status", ["", "active", "expired"])
def test_deadlines_cost_no_query(
    engine: str,
    scene: dict[str, Any],
    settings: Any,
    status: str,
    django_assert_num_queries: Any,
) -> None:
    """The same counts as without timeouts (``test_admin_queries``): the
    deadlines are WHERE clauses and a CASE, not queries."""
    settings.SESSIONGUARD_NOT_VALID_BEFORE = "2020-01-01T00:00:00Z"
    root: Client = scene["root"]
    root.get(SESSIONS)  # fills the cached browser / OS family lists
    with django_assert_num_queries(SESSION_LOAD[engine] + 4):
        root.get(SESSIONS, {"status": status} if status else {})
    with django_assert_num_queries(SESSION_LOAD[engine] + 1 + 4 + 1):
        root.get(DASHBOARD)


def test_revoking_all_of_a_users_sessions_counts_the_live_ones(
    scene: dict[str, Any],
) -> None:
    root, refs = scene["root"], scene["refs"]
    url = revoke_user_url(scene["alice"])

    confirmation = root.get(url).content.decode()
    response = root.post(url, {"reason": "laptop stolen"}, follow=True)

    assert "This session of alice will end now." in confirmation
    assert confirmation.count("<time datetime=") == 1  # one row listed
    assert "Revoked 1 session." in response.content.decode()
    kinds = dict(
        SessionEvent.objects.filter(kind__in=ENDING_KINDS).values_list(
            "session_ref", "kind"
        )
    )
    assert kinds == {
        refs["steady"]: EventKind.REVOKED_BY_STAFF,
        refs["veteran"]: EventKind.EXPIRED_ABSOLUTE,
        refs["idler"]: EventKind.EXPIRED_IDLE,
    }
