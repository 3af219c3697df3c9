"""Revoking from the admin: actions, confirmation, permission, and the effect.

Run on both engines: a revoked client is anonymous on its very next request,
and every ending is an audit event naming the staff member.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from django_sessionguard.events import EventKind
from django_sessionguard.models import Session, SessionEvent
from tests.test_admin_helpers import (
    REVOKER,
    SESSIONS,
    VIEWER,
    action_post,
    change_url,
    confirm_post,
    make_superuser,
    make_user,
    revoke_url,
    revoke_user_url,
    staff_client,
    user_change_url,
)
from tests.user_sessions import (
    ANDROID_FIREFOX,
    IPHONE_SAFARI,
    UBUNTU_FIREFOX,
    WINDOWS_CHROME,
    SignedIn,
    sign_in,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def revoker(engine: str) -> Any:
    return make_user("revoker", staff=True, perms=REVOKER)


@pytest.fixture
def revoker_client(revoker: Any) -> Client:
    return staff_client(revoker)


@pytest.fixture
def people(engine: str) -> dict[str, Any]:
    return {name: make_user(name) for name in ("alice", "bob")}


@pytest.fixture
def browsers(people: dict[str, Any]) -> dict[str, SignedIn]:
    alice, bob = people["alice"], people["bob"]
    return {
        "alice_pc": sign_in(alice, user_agent=WINDOWS_CHROME, ip="203.0.113.5"),
        "alice_phone": sign_in(alice, user_agent=IPHONE_SAFARI, ip="203.0.113.6"),
        "bob_linux": sign_in(bob, user_agent=UBUNTU_FIREFOX, ip="198.51.100.20"),
        "bob_phone": sign_in(bob, user_agent=ANDROID_FIREFOX, ip="198.51.100.21"),
    }


def staff_events(actor: Any) -> list[SessionEvent]:
    return list(
        SessionEvent.objects.filter(kind=EventKind.REVOKED_BY_STAFF, actor=actor)
    )


def alive(*clients: SignedIn) -> list[str | None]:
    return [client.username() for client in clients]


# -- the bulk actions -----------------------------------------------------------------


def test_revoke_selected_confirms_then_revokes(
    revoker: Any, revoker_client: Client, browsers: dict[str, SignedIn]
) -> None:
    chosen = [browsers["alice_phone"], browsers["bob_linux"]]
    references = [signed_in.reference for signed_in in chosen]

    page = revoker_client.post(SESSIONS, action_post("revoke_selected", references))
    assert page.status_code == 200
    html = page.content.decode()
    assert "These 2 sessions will end now" in html
    for reference in references:
        assert f'name="_selected_action" value="{reference}"' in html
    assert 'name="post" value="yes"' in html
    assert "csrfmiddlewaretoken" in html
    assert alive(*chosen) == ["alice", "bob"], "nothing ends before confirmation"

    done = revoker_client.post(
        SESSIONS, confirm_post("revoke_selected", references, reason="stolen laptop")
    )
    assert done.status_code == 302
    assert done["Location"] == SESSIONS
    assert alive(*chosen) == [None, None]
    assert alive(browsers["alice_pc"], browsers["bob_phone"]) == ["alice", "bob"]
    events = staff_events(revoker)
    assert sorted(event.session_ref for event in events) == sorted(references)
    assert {event.detail.get("reason") for event in events} == {"stolen laptop"}
    messages = [str(m) for m in revoker_client.get(SESSIONS).context["messages"]]
    assert "Revoked 2 sessions." in messages


def test_revoke_users_ends_every_session_of_those_users(
    revoker: Any, revoker_client: Client, browsers: dict[str, SignedIn]
) -> None:
    references = [browsers["alice_phone"].reference]
    page = revoker_client.post(SESSIONS, action_post("revoke_users", references))
    assert page.status_code == 200
    html = page.content.decode()
    assert "alice" in html
    assert "(2 sessions)" in html
    assert alive(browsers["alice_pc"]) == ["alice"]

    done = revoker_client.post(SESSIONS, confirm_post("revoke_users", references))
    assert done.status_code == 302
    assert alive(browsers["alice_pc"], browsers["alice_phone"]) == [None, None]
    assert alive(browsers["bob_linux"], browsers["bob_phone"]) == ["bob", "bob"]
    assert {event.user.username for event in staff_events(revoker)} == {"alice"}
    assert len(staff_events(revoker)) == 2


def test_select_across_revokes_everything_the_filter_matches(
    revoker_client: Client, browsers: dict[str, SignedIn]
) -> None:
    url = f"{SESSIONS}?browser=Firefox+Mobile"
    one = [browsers["bob_phone"].reference]
    page = revoker_client.post(
        url, action_post("revoke_selected", one, select_across="1")
    )
    html = page.content.decode()
    assert "every session that matches the current filter" in html
    assert 'name="select_across" value="1"' in html
    revoker_client.post(url, confirm_post("revoke_selected", one, select_across="1"))
    assert alive(browsers["bob_phone"], browsers["bob_linux"]) == [None, "bob"]


def test_cancelling_changes_nothing(
    revoker_client: Client, browsers: dict[str, SignedIn]
) -> None:
    references = [browsers["alice_pc"].reference]
    html = revoker_client.post(
        f"{SESSIONS}?status=active", action_post("revoke_selected", references)
    ).content.decode()
    assert f'href="{SESSIONS}?status=active" class="button cancel-link"' in html
    assert alive(browsers["alice_pc"]) == ["alice"]


def test_primary_keys_posted_as_selection_select_nothing(
    revoker_client: Client, browsers: dict[str, SignedIn]
) -> None:
    key_hash = Session.objects.get(reference=browsers["alice_pc"].reference).pk
    revoker_client.post(SESSIONS, confirm_post("revoke_selected", [key_hash]))
    assert alive(browsers["alice_pc"]) == ["alice"]


def test_a_reason_is_bounded(
    revoker_client: Client, browsers: dict[str, SignedIn]
) -> None:
    references = [browsers["alice_pc"].reference]
    page = revoker_client.post(
        SESSIONS, confirm_post("revoke_selected", references, reason="x" * 201)
    )
    assert page.status_code == 200
    assert "at most 200 characters" in page.content.decode()
    assert alive(browsers["alice_pc"]) == ["alice"]


def test_superuser_can_revoke(browsers: dict[str, SignedIn]) -> None:
    root = make_superuser()
    client = staff_client(root)
    references = [browsers["bob_linux"].reference]
    client.post(SESSIONS, confirm_post("revoke_selected", references))
    assert alive(browsers["bob_linux"]) == [None]
    assert len(staff_events(root)) == 1


# -- permission ---------------------------------------------------------------------


@pytest.mark.parametrize("action", ["revoke_selected", "revoke_users"])
@pytest.mark.parametrize("confirmed", [False, True], ids=["ask", "confirm"])
def test_view_only_staff_get_403_on_the_actions(
    browsers: dict[str, SignedIn], action: str, confirmed: bool
) -> None:
    viewer = staff_client(make_user("viewer", staff=True, perms=VIEWER))
    references = [browsers["alice_pc"].reference]
    data = (confirm_post if confirmed else action_post)(action, references)
    assert viewer.post(SESSIONS, data).status_code == 403
    assert alive(browsers["alice_pc"]) == ["alice"]


def test_view_only_staff_get_403_on_the_revoke_pages(
    people: dict[str, Any], browsers: dict[str, SignedIn]
) -> None:
    viewer = staff_client(make_user("viewer", staff=True, perms=VIEWER))
    reference = browsers["alice_pc"].reference
    for url in (revoke_url(reference), revoke_user_url(people["alice"])):
        assert viewer.get(url).status_code == 403
        assert viewer.post(url, {"reason": ""}).status_code == 403
    assert alive(browsers["alice_pc"]) == ["alice"]


def test_revoke_permission_without_view_permission_is_not_enough(
    browsers: dict[str, SignedIn],
) -> None:
    odd = staff_client(make_user("odd", staff=True, perms=("revoke_session",)))
    reference = browsers["alice_pc"].reference
    assert (
        odd.post(SESSIONS, confirm_post("revoke_selected", [reference])).status_code
        == 403
    )
    assert odd.post(revoke_url(reference), {}).status_code == 403
    assert alive(browsers["alice_pc"]) == ["alice"]


def test_non_staff_cannot_reach_the_revoke_pages(
    people: dict[str, Any], browsers: dict[str, SignedIn]
) -> None:
    bob = browsers["bob_linux"].client
    reference = browsers["alice_pc"].reference
    for url in (revoke_url(reference), revoke_user_url(people["alice"]), SESSIONS):
        response = bob.post(url, confirm_post("revoke_selected", [reference]))
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    assert alive(browsers["alice_pc"]) == ["alice"]


def test_revoke_pages_need_csrf(
    revoker: Any, people: dict[str, Any], browsers: dict[str, SignedIn]
) -> None:
    strict = staff_client(revoker)
    strict.handler.enforce_csrf_checks = True
    reference = browsers["alice_pc"].reference
    for url, data in (
        (revoke_url(reference), {"reason": ""}),
        (revoke_user_url(people["alice"]), {"reason": ""}),
        (SESSIONS, confirm_post("revoke_selected", [reference])),
    ):
        assert strict.post(url, data).status_code == 403
    assert alive(browsers["alice_pc"]) == ["alice"]


# -- one session, one user ------------------------------------------------------------


def test_revoke_one_session_from_its_page(
    revoker: Any, revoker_client: Client, browsers: dict[str, SignedIn]
) -> None:
    reference = browsers["bob_phone"].reference
    assert (
        revoke_url(reference)
        in revoker_client.get(change_url(reference)).content.decode()
    )
    page = revoker_client.get(revoke_url(reference))
    assert page.status_code == 200
    assert "This session will end now" in page.content.decode()
    done = revoker_client.post(revoke_url(reference), {"reason": "lost phone"})
    assert done.status_code == 302
    assert done["Location"] == SESSIONS
    assert alive(browsers["bob_phone"], browsers["bob_linux"]) == [None, "bob"]
    (event,) = staff_events(revoker)
    assert (event.session_ref, event.detail) == (reference, {"reason": "lost phone"})
    assert revoker_client.get(revoke_url(reference)).status_code == 404


def test_revoke_all_of_one_user(
    revoker: Any,
    revoker_client: Client,
    people: dict[str, Any],
    browsers: dict[str, SignedIn],
) -> None:
    alice = people["alice"]
    page = revoker_client.get(revoke_user_url(alice))
    assert page.status_code == 200
    html = page.content.decode()
    assert "These 2 sessions of alice will end now." in html
    assert f'href="{user_change_url(alice)}"' in html  # the way back

    done = revoker_client.post(revoke_user_url(alice), {"reason": ""})
    assert done.status_code == 302
    assert done["Location"] == user_change_url(alice)
    assert alive(browsers["alice_pc"], browsers["alice_phone"]) == [None, None]
    assert alive(browsers["bob_linux"]) == ["bob"]
    assert len(staff_events(revoker)) == 2
    entry = LogEntry.objects.get(object_id=str(alice.pk))
    assert entry.get_change_message() == "Revoked 2 sessions."


def test_revoke_all_of_an_unknown_user_is_404(revoker_client: Client) -> None:
    for user_id in ("999999", "not-a-pk"):
        url = revoke_user_url(type("U", (), {"pk": user_id})())
        assert revoker_client.get(url).status_code == 404


def test_revoke_users_on_anonymous_sessions_ends_just_those(
    revoker_client: Client, browsers: dict[str, SignedIn]
) -> None:
    visitor = Client(HTTP_USER_AGENT=UBUNTU_FIREFOX, REMOTE_ADDR="198.51.100.99")
    visitor.get("/write/?value=7")
    reference = Session.objects.get(user=None, ip_address="198.51.100.99").reference
    html = revoker_client.post(
        SESSIONS, action_post("revoke_users", [reference])
    ).content.decode()
    assert "This anonymous session will end now." in html
    assert "198.51.100.99" in html
    revoker_client.post(SESSIONS, confirm_post("revoke_users", [reference]))
    assert visitor.get("/read/").json()["counter"] is None
    assert alive(browsers["alice_pc"], browsers["bob_linux"]) == ["alice", "bob"]
