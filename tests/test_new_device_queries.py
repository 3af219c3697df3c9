"""What new-device detection adds to a sign-in, and what its page costs.

Transactional, like ``test_login_queries``: the statements are those
production runs. A sign-in without a session limit costs 5 queries (see
``test_login_queries``); detection adds the history query (one statement, a
``UNION ALL`` of the user's sessions and sign-in events), and a new device one
more INSERT for its event. Switched off (the default), it adds nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import new_device_support as fixtures
from tests.lifecycle_support import CHROME_120, CHROME_130, FIREFOX_WINDOWS, IP, browser
from tests.new_device_support import IP_AWAY, link_path

pytestmark = pytest.mark.django_db(transaction=True)

alice = fixtures.alice

SIGN_IN = 5  # tests/test_login_queries.py


def sign_in(ip: str, user_agent: str) -> list[str]:
    client = browser(ip, user_agent)
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/login/", {"username": "alice", "password": "pw"})
    assert response.status_code == 302
    return [query["sql"] for query in queries.captured_queries]


def history_queries(queries: list[str]) -> list[str]:
    return [sql for sql in queries if "UNION ALL" in sql]


def test_off_costs_nothing(engine: str, alice: Any) -> None:
    sign_in(IP, CHROME_120)
    assert len(sign_in(IP_AWAY, FIREFOX_WINDOWS)) == SIGN_IN


def test_a_known_device_costs_one_query(
    engine: str, alice: Any, settings: Any, django_assert_num_queries: Any
) -> None:
    settings.SESSIONGUARD_NEW_DEVICE_EMAIL = True
    sign_in(IP, CHROME_120)
    with django_assert_num_queries(SIGN_IN + 1):
        queries = sign_in(IP_AWAY, CHROME_130)
    [history] = history_queries(queries)
    assert "sessionguard_session" in history
    assert "sessionguard_event" in history
    assert "LIMIT 500" in history
    assert mail.outbox == []


def test_a_new_device_costs_two(
    engine: str, alice: Any, settings: Any, django_assert_num_queries: Any
) -> None:
    settings.SESSIONGUARD_NEW_DEVICE_EMAIL = True
    for user_agent in (CHROME_120, CHROME_130):
        sign_in(IP, user_agent)  # history grows; the query does not
    with django_assert_num_queries(SIGN_IN + 2):
        queries = sign_in(IP_AWAY, FIREFOX_WINDOWS)
    assert len(history_queries(queries)) == 1
    assert sum(sql.startswith("INSERT") for sql in queries) == 3  # session, 2 events
    assert len(mail.outbox) == 1  # sending it queries nothing


def test_the_first_sign_in_costs_one(
    alice: Any, settings: Any, django_assert_num_queries: Any
) -> None:
    settings.SESSIONGUARD_NEW_DEVICE_DETECTION = True
    with django_assert_num_queries(SIGN_IN + 1):
        sign_in(IP, CHROME_120)


def test_the_confirmation_page_costs_two(
    alice: Any, settings: Any, django_assert_num_queries: Any
) -> None:
    """The user, then the link's events (detection and any use) in one query."""
    settings.SESSIONGUARD_NEW_DEVICE_EMAIL = True
    sign_in(IP, CHROME_120)
    sign_in(IP_AWAY, FIREFOX_WINDOWS)
    reader = browser(IP_AWAY, FIREFOX_WINDOWS)
    with django_assert_num_queries(2):
        response = reader.get(link_path(mail.outbox[0]))
    assert response.status_code == 200
