"""What the admin pages cost in SQL: a constant number of queries, whatever the rows.

Counted exactly with ``django_assert_num_queries``, for a page of 5 rows and a
page of 50 (the page size). The breakdown of the sessions list on the ``db``
engine, with the browser/OS family lists already cached:

1. the staff member's session (the engine's load; absent on ``cached_db``);
2. the staff member's user (``AuthenticationMiddleware``);
3. ``COUNT(*)`` of the filtered rows (the paginator; never an unfiltered count:
   ``show_full_result_count = False``);
4. the page of rows, joined to their users (``list_select_related``);
5. ``MIN``/``MAX`` of ``last_activity``: the date hierarchy's range, from which
   its links are made (Django's own would add a ``DISTINCT`` over every row).

A search for a name adds one query on the user table (the matching users'
ids); the family lists, when not cached, two (see ``filters.family_choices``).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from django_sessionguard.events import EventKind
from django_sessionguard.models import SessionEvent
from tests.test_admin_helpers import (
    DASHBOARD,
    EVENTS,
    SESSIONS,
    make_superuser,
    make_user,
    staff_client,
    user_change_url,
)
from tests.user_sessions import (
    ANDROID_FIREFOX,
    IPHONE_SAFARI,
    UBUNTU_FIREFOX,
    WINDOWS_CHROME,
    start_session,
)

pytestmark = pytest.mark.django_db

AGENTS = (WINDOWS_CHROME, IPHONE_SAFARI, ANDROID_FIREFOX, UBUNTU_FIREFOX)
#: The staff member's session load is one query on ``db``, none on ``cached_db``.
SESSION_LOAD = {
    "django_sessionguard.backends.db": 1,
    "django_sessionguard.backends.cached_db": 0,
}


def populate(rows: int) -> tuple[Client, Any]:
    """A superuser's browser, plus other users' sessions up to ``rows`` in all."""
    root = make_superuser()
    client = staff_client(root)
    users = [make_user(f"user{i}") for i in range(rows - 1)]
    for i, user in enumerate(users):
        start_session(user, user_agent=AGENTS[i % len(AGENTS)], ip=f"203.0.113.{i}")
    return client, users


@pytest.mark.parametrize("rows", [5, 50])
def test_sessions_list_costs_the_same_for_5_and_50_rows(
    engine: str, rows: int, django_assert_num_queries: Any
) -> None:
    client, _users = populate(rows)
    client.get(SESSIONS)  # fills the cached browser / OS family lists
    with django_assert_num_queries(SESSION_LOAD[engine] + 4):
        response = client.get(SESSIONS)
    assert response.content.decode().count('class="action-select"') == rows


@pytest.mark.parametrize("rows", [5, 50])
def test_filtered_and_searched_lists_cost_the_same(
    engine: str, rows: int, django_assert_num_queries: Any
) -> None:
    client, _users = populate(rows)
    client.get(SESSIONS)
    with django_assert_num_queries(SESSION_LOAD[engine] + 4):
        response = client.get(SESSIONS, {"status": "active", "q": "203.0.113."})
    assert response.content.decode().count('class="action-select"') == rows - 1
    with django_assert_num_queries(SESSION_LOAD[engine] + 4 + 1):
        response = client.get(SESSIONS, {"q": "user"})
    assert response.content.decode().count('class="action-select"') == rows - 1


@pytest.mark.parametrize("rows", [5, 50])
def test_family_lists_cost_two_queries_when_cold(
    engine: str, rows: int, django_assert_num_queries: Any
) -> None:
    client, _users = populate(rows)
    with django_assert_num_queries(SESSION_LOAD[engine] + 4 + 2):
        client.get(SESSIONS)


@pytest.mark.parametrize("rows", [5, 50])
def test_events_list_costs_the_same_for_5_and_50_rows(
    engine: str, rows: int, django_assert_num_queries: Any
) -> None:
    root = make_superuser()
    client = staff_client(root)
    SessionEvent.objects.all().delete()
    users = [make_user(f"user{i}") for i in range(rows)]
    SessionEvent.objects.bulk_create(
        SessionEvent(
            kind=EventKind.REVOKED_BY_STAFF,
            user=user,
            actor=root,
            session_ref=f"{i:032x}",
            ip_address=f"203.0.113.{i}",
            device="Chrome 124 on Windows 10",
        )
        for i, user in enumerate(users)
    )
    # session, user, count, the page (users and actors joined), the date
    # range, and the staff members the actor filter offers.
    with django_assert_num_queries(SESSION_LOAD[engine] + 5):
        response = client.get(EVENTS)
    assert response.content.decode().count('class="action-select"') == rows


@pytest.mark.parametrize("rows", [5, 50])
def test_dashboard_costs_the_same_for_5_and_50_rows(
    engine: str, rows: int, django_assert_num_queries: Any
) -> None:
    client, _users = populate(rows)
    # session, user; four aggregations (devices and browsers; users with most
    # sessions and how many users; their names; sign-ins per day); the recent
    # security events.
    with django_assert_num_queries(SESSION_LOAD[engine] + 1 + 4 + 1):
        client.get(DASHBOARD)
    # Cached: the aggregations are not run again.
    with django_assert_num_queries(SESSION_LOAD[engine] + 1 + 1):
        client.get(DASHBOARD)


@pytest.mark.parametrize("rows", [5, 50])
def test_user_page_sessions_cost_the_same(
    engine: str, rows: int, django_assert_num_queries: Any
) -> None:
    root = make_superuser()
    client = staff_client(root)
    alice = make_user("alice")
    for i in range(rows):
        start_session(alice, user_agent=AGENTS[i % len(AGENTS)], ip=f"198.51.100.{i}")
    client.get(user_change_url(alice))  # Django caches the content types
    # Django's own: the staff user, the user shown, their groups and
    # permissions, every group and permission (the form's choices). Ours: one
    # query for the listed sessions (one row more than shown says "more").
    with django_assert_num_queries(SESSION_LOAD[engine] + 6 + 1):
        response = client.get(user_change_url(alice))
    html = response.content.decode()
    listed = len(
        re.findall(r'href="/admin/django_sessionguard/session/\w+/change/"', html)
    )
    assert listed == min(rows, 20)
    assert ("see all live sessions" in html) is (rows > 20)


@pytest.mark.parametrize("rows", [5, 50])
def test_one_users_sessions_cost_the_same(
    engine: str, rows: int, django_assert_num_queries: Any
) -> None:
    client = staff_client(make_superuser())
    alice = make_user("alice")
    for i in range(rows):
        start_session(alice, user_agent=AGENTS[i % len(AGENTS)], ip=f"198.51.100.{i}")
    client.get(SESSIONS)
    # The list's four, plus the chosen user (looked up once for the filter).
    with django_assert_num_queries(SESSION_LOAD[engine] + 4 + 1):
        response = client.get(SESSIONS, {"user": alice.pk})
    assert response.content.decode().count('class="action-select"') == rows
