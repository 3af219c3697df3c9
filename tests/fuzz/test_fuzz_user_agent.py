"""Fuzzing the User-Agent: served, stored bounded and printable, shown escaped.

The header is drawn from any Unicode at all (controls, NUL, lone surrogates,
bidi marks), huge repetitions, and strings carrying HTML, template and header
injections. Whatever it holds: no server error, the stored User-Agent and the
fields parsed from it are bounded and printable, and neither the devices page
nor the admin pages gain an element, an event handler or a ``javascript:`` URL
from it (compared with the same pages for a plain browser).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from hypothesis import given

from django_sessionguard.devices import FIELD_MAX_LENGTH, USER_AGENT_MAX_LENGTH
from django_sessionguard.models import Session, SessionEvent
from tests.fuzz.support import fuzzing, hostile_text, markup, rolled_back
from tests.test_admin_helpers import SESSIONS, change_url, make_superuser
from tests.user_sessions import WINDOWS_CHROME, sign_in

pytestmark = pytest.mark.django_db

LIST = reverse("sessionguard:list")
API_LIST = reverse("sessionguard:api-list")


def assert_bounded_and_printable(session: Session) -> None:
    assert len(session.user_agent) <= USER_AGENT_MAX_LENGTH
    assert session.user_agent.isprintable()
    for field in ("browser", "browser_version", "os", "os_version"):
        value = getattr(session, field)
        assert len(value) <= FIELD_MAX_LENGTH
        assert value.isprintable()


@fuzzing(40)
@given(user_agent=hostile_text)
def test_anonymous_session_with_any_user_agent(engine: str, user_agent: str) -> None:
    with rolled_back():
        client = Client(HTTP_USER_AGENT=user_agent)

        assert client.get("/write/?value=3").json() == {"user": None, "counter": 3}
        assert client.get("/read/").json() == {"user": None, "counter": 3}

        assert_bounded_and_printable(Session.objects.get())


@pytest.fixture
def pages(engine: str, user: Any) -> dict[str, Any]:
    """A staff browser, and each page's dangerous markup for a plain browser."""
    staff = sign_in(make_superuser(), ip="192.0.2.10").client
    with rolled_back():
        plain = sign_in(user, user_agent=WINDOWS_CHROME)
        baseline = {
            "list": markup(plain.client.get(LIST).content.decode()),
            "admin_list": markup(staff.get(SESSIONS).content.decode()),
            "admin_change": markup(
                staff.get(change_url(plain.reference)).content.decode()
            ),
        }
    return {"staff": staff, "baseline": baseline}


@fuzzing(15)
@given(user_agent=hostile_text)
def test_signed_in_with_any_user_agent(
    pages: dict[str, Any], user: Any, user_agent: str
) -> None:
    baseline = pages["baseline"]
    staff: Client = pages["staff"]
    with rolled_back():
        client = Client(HTTP_USER_AGENT=user_agent)
        response = client.post("/login/", {"username": "alice", "password": "pw"})
        assert response.status_code == 302

        session = Session.objects.get(user=user)
        assert_bounded_and_printable(session)
        for event in SessionEvent.objects.filter(user=user):
            assert event.device.isprintable()

        page = client.get(LIST)
        assert page.status_code == 200
        assert markup(page.content.decode()) == baseline["list"]
        api = client.get(API_LIST)
        assert api.status_code == 200
        (row,) = api.json()["sessions"]
        assert row["browser"] == session.browser

        changelist = staff.get(SESSIONS)
        assert changelist.status_code == 200
        assert markup(changelist.content.decode()) == baseline["admin_list"]
        change = staff.get(change_url(session.reference))
        assert change.status_code == 200
        html = change.content.decode()
        assert markup(html) == baseline["admin_change"]
        if session.user_agent:
            # Shown, and shown escaped (not dropped, not raw).
            assert escape(session.user_agent) in html
