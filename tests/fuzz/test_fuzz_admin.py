"""Fuzzing the admin's revocation: only what was selected by a valid reference ends.

Staff post arbitrary selections to the sessions changelist's actions (real
references, key hashes, garbage, near misses; any ``select_across``, ``post``
and reason), and arbitrary references and user ids to the two revoke pages.
The answer is never a 500, a staff member without the revoke permission
changes nothing, and the sessions that end are exactly those the request
named: by a valid reference, by "select all", or as all sessions of the
user a valid user id names.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from django import forms
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client
from hypothesis import event, given
from hypothesis import strategies as st

from django_sessionguard.admin.revocation import RevokeForm
from django_sessionguard.keys import hash_key
from django_sessionguard.models import Session
from tests.fuzz.support import (
    CLIENT_ERRORS,
    as_received,
    form_body,
    fuzzing,
    hostile_text,
    mostly,
    rolled_back,
    url_text,
)
from tests.test_admin_helpers import (
    REVOKER,
    SESSIONS,
    VIEWER,
    make_user,
    staff_client,
)
from tests.user_sessions import (
    ANDROID_FIREFOX,
    IPHONE_SAFARI,
    UBUNTU_FIREFOX,
    WINDOWS_CHROME,
    sign_in,
)

pytestmark = pytest.mark.django_db

ADMIN = "/admin/django_sessionguard/session/"
REVOKE_ACTIONS = ("revoke_selected", "revoke_users")


@dataclass
class Staff:
    revoker: Client
    viewer: Client
    #: reference -> owner's user id, for every session (staff's included)
    owners: dict[str, Any]
    #: reference -> key hash (the primary key: must never select anything)
    hashes: dict[str, str]
    users: list[Any]


@pytest.fixture
def staff(engine: str) -> Staff:
    alice, bob = make_user("alice"), make_user("bob")
    revoker = make_user("revoker", staff=True, perms=REVOKER)
    viewer = make_user("viewer", staff=True, perms=VIEWER)
    revoker_client, viewer_client = staff_client(revoker), staff_client(viewer)
    signed_in = [
        sign_in(alice, user_agent=WINDOWS_CHROME, ip="203.0.113.5"),
        sign_in(alice, user_agent=IPHONE_SAFARI, ip="203.0.113.6"),
        sign_in(bob, user_agent=UBUNTU_FIREFOX, ip="198.51.100.20"),
        sign_in(bob, user_agent=ANDROID_FIREFOX, ip="198.51.100.21"),
    ]
    Client(HTTP_USER_AGENT=WINDOWS_CHROME).get("/write/")  # an anonymous session
    owners = dict(Session.objects.values_list("reference", "user_id"))
    assert len(owners) == len(signed_in) + 3
    return Staff(
        revoker=revoker_client,
        viewer=viewer_client,
        owners=owners,
        hashes=dict(Session.objects.values_list("reference", "key_hash")),
        users=[alice, bob, revoker],
    )


def live() -> set[str]:
    return set(Session.objects.values_list("reference", flat=True))


def selections(staff: Staff) -> st.SearchStrategy[str]:
    real = sorted(staff.owners)
    return st.one_of(
        st.sampled_from(real),
        st.sampled_from(real).map(lambda ref: staff.hashes[ref]),
        st.sampled_from(real).map(lambda ref: ref.upper()),
        st.sampled_from(real).map(lambda ref: f"{ref}\x00"),
        st.sampled_from(real).map(lambda ref: f"{ref} "),
        st.text("0123456789abcdef", min_size=32, max_size=32),
        st.text("0123456789abcdefghijklmnopqrstuvwxyz", min_size=32, max_size=32).map(
            hash_key
        ),
        hostile_text,
    )


reasons = st.one_of(
    st.just(""), st.text(max_size=60), st.text(min_size=195, max_size=230)
)


def is_true(value: str) -> bool:
    """How the action form reads ``select_across`` (a ``BooleanField``)."""
    return bool(forms.BooleanField(required=False).clean(value))


def reason_ok(reason: str) -> bool:
    return RevokeForm({"reason": as_received(reason)}).is_valid()


@dataclass(frozen=True)
class ActionPost:
    as_revoker: bool
    action: str
    selected: list[str]
    select_across: str
    post: str | None
    reason: str
    index: bool

    def body(self) -> str:
        data: dict[str, Any] = {
            "action": self.action,
            helpers.ACTION_CHECKBOX_NAME: self.selected,
            "select_across": self.select_across,
            "reason": self.reason,
        }
        if self.post is not None:
            data["post"] = self.post
        if self.index:
            data["index"] = "0"
        return form_body(data)


@st.composite
def action_posts(draw: st.DrawFn, staff: Staff) -> ActionPost:
    # Weighted towards requests that do end sessions: that is where a wrong
    # selection would hurt.
    real = st.sampled_from(sorted(staff.owners))
    return ActionPost(
        as_revoker=draw(st.sampled_from([True, True, True, False])),
        action=draw(mostly(st.sampled_from(REVOKE_ACTIONS), hostile_text)),
        selected=draw(st.lists(mostly(real, selections(staff)), max_size=5)),
        select_across=draw(
            mostly(
                st.just("0"),
                st.sampled_from(["1", "", "false", "True"]) | hostile_text,
            )
        ),
        post=draw(mostly(st.just("yes"), st.none() | hostile_text)),
        reason=draw(reasons),
        index=draw(st.booleans()),
    )


def expected_ends(staff: Staff, post: ActionPost) -> set[str]:
    """The sessions ``post`` asks to end (the oracle)."""
    if not post.as_revoker or post.action not in REVOKE_ACTIONS:
        return set()
    if not post.selected or post.post != "yes" or not reason_ok(post.reason):
        return set()
    named = {ref for ref in post.selected if ref in staff.owners}
    if is_true(as_received(post.select_across)):
        named = set(staff.owners)
    if post.action == "revoke_users":
        owners = {staff.owners[ref] for ref in named} - {None}
        named |= {ref for ref, owner in staff.owners.items() if owner in owners}
    return named


@fuzzing(30)
@given(data=st.data())
def test_changelist_actions_end_only_what_was_selected(
    staff: Staff, data: st.DataObject
) -> None:
    post = data.draw(action_posts(staff), label="post")
    ends = expected_ends(staff, post)
    before = live()

    with rolled_back():
        client = staff.revoker if post.as_revoker else staff.viewer
        response = client.post(
            SESSIONS, post.body(), content_type="application/x-www-form-urlencoded"
        )
        action = post.action if post.action in REVOKE_ACTIONS else "other action"
        event(f"{action}: {response.status_code}, {len(ends)} ended")

        assert response.status_code in {200, 302} | CLIENT_ERRORS
        if not post.as_revoker and post.action in REVOKE_ACTIONS:
            assert response.status_code == 403
        assert before - live() == ends


def references(staff: Staff) -> st.SearchStrategy[str]:
    return mostly(
        st.sampled_from(sorted(staff.owners)),
        selections(staff) | st.sampled_from(["", "/", "..", "a/b", "%00"]),
        weight=1,
    )


@fuzzing(25)
@given(
    data=st.data(),
    method=st.sampled_from(["GET", "POST", "POST"]),
    as_revoker=st.booleans() | st.just(True),
    reason=reasons,
)
def test_revoke_one_session_page(
    staff: Staff,
    data: st.DataObject,
    method: str,
    as_revoker: bool,
    reason: str,
) -> None:
    reference = data.draw(references(staff), label="reference")
    url = f"{ADMIN}{url_text(reference)}/revoke/"
    named = reference in staff.owners and "/" not in reference
    before = live()

    with rolled_back():
        client = staff.revoker if as_revoker else staff.viewer
        response = client.generic(
            method,
            url,
            form_body({"reason": reason}),
            content_type="application/x-www-form-urlencoded",
        )
        event(f"{method} {'named' if named else 'unknown'}: {response.status_code}")

        assert response.status_code in {200, 302} | CLIENT_ERRORS
        if as_revoker and named and method == "POST" and reason_ok(reason):
            assert response.status_code == 302
            assert before - live() == {reference}
        else:
            assert before - live() == set()
            if named and not as_revoker:
                assert response.status_code == 403


def user_ids(staff: Staff) -> st.SearchStrategy[str]:
    pks = [str(user.pk) for user in staff.users]
    return mostly(
        st.sampled_from(pks),
        st.one_of(
            st.sampled_from(pks).map(lambda pk: f"{pk}/"),
            st.sampled_from(pks).map(lambda pk: f"{pk}\x00"),
            st.sampled_from(["0", "-1", "1e3", "99999999999999999999", "1/2", "None"]),
            st.integers().map(str),
            hostile_text,
        ),
        weight=1,
    )


def named_user(user_id: str) -> Any:
    """The user a URL's user id names, read as Django reads a primary key."""
    model = get_user_model()
    try:
        pk = model._meta.pk.to_python(user_id)
        return model._default_manager.filter(pk=pk).first()
    except (ValidationError, ValueError, OverflowError):
        return None


@fuzzing(25)
@given(
    data=st.data(),
    method=st.sampled_from(["GET", "POST", "POST"]),
    as_revoker=st.booleans() | st.just(True),
    reason=reasons,
)
def test_revoke_all_of_a_users_sessions_page(
    staff: Staff,
    data: st.DataObject,
    method: str,
    as_revoker: bool,
    reason: str,
) -> None:
    user_id = data.draw(user_ids(staff), label="user id")
    url = f"{ADMIN}user/{quote(user_id.encode('utf-8', 'surrogatepass'))}/revoke/"
    before = live()
    target = named_user(user_id) if user_id else None

    with rolled_back():
        client = staff.revoker if as_revoker else staff.viewer
        response = client.generic(
            method,
            url,
            form_body({"reason": reason}),
            content_type="application/x-www-form-urlencoded",
        )
        event(f"{method} {'user' if target else 'nobody'}: {response.status_code}")

        assert response.status_code in {200, 302} | CLIENT_ERRORS
        ended = before - live()
        if as_revoker and target is not None and method == "POST" and reason_ok(reason):
            assert ended == {
                ref for ref, owner in staff.owners.items() if owner == target.pk
            }
        else:
            assert ended == set()


def test_a_key_hash_never_selects_a_session(staff: Staff) -> None:
    # What the database holds as the primary key is not an identifier pages
    # accept: posting every key hash to every action ends nothing.
    before = live()
    for action in REVOKE_ACTIONS:
        response = staff.revoker.post(
            SESSIONS,
            {
                "action": action,
                helpers.ACTION_CHECKBOX_NAME: list(staff.hashes.values()),
                "select_across": "0",
                "post": "yes",
                "reason": secrets.token_hex(4),
            },
        )
        assert response.status_code == 302
    assert live() == before


#: The changelist's own query parameters (filters, search, ordering, paging).
CHANGELIST_PARAMETERS = (
    "q",
    "o",
    "p",
    "e",
    "status",
    "authenticated",
    "device_type",
    "device_type__exact",
    "browser",
    "os",
    "user",
    "authenticated_at__gte",
    "last_activity__lt",
    "last_activity__year",
    "last_activity__month",
    "all",
    "_to_field",
    "_popup",
)


@fuzzing(25)
@given(
    query=st.dictionaries(
        mostly(st.sampled_from(CHANGELIST_PARAMETERS), hostile_text, weight=9),
        hostile_text,
        min_size=1,
        max_size=2,
    ),
    page=st.sampled_from([SESSIONS, "/admin/django_sessionguard/sessionevent/"]),
)
def test_changelists_with_any_query_string(
    staff: Staff, query: dict[str, str], page: str
) -> None:
    # Links staff follow can carry anything: filters, search, ordering, paging.
    before = live()

    response = staff.revoker.get(f"{page}?{form_body(query)}")
    event(f"{page.split('/')[-2]}: {response.status_code}")

    assert response.status_code in {200, 302, 400}
    assert live() == before


# -- what the fuzzing found: NUL bytes (PostgreSQL refuses them in a query) ------


@pytest.mark.parametrize(
    "url",
    [
        f"{SESSIONS}?browser=%00",
        f"{SESSIONS}?os=a%00",
        f"{SESSIONS}?device_type=%00",
        f"{SESSIONS}?q=%00",
        "/admin/django_sessionguard/sessionevent/?kind=%00",
        "/admin/django_sessionguard/sessionevent/?session_ref=%00",
        "/admin/django_sessionguard/sessionevent/?%00=1",
    ],
)
def test_a_nul_byte_in_a_changelist_query_is_refused(staff: Staff, url: str) -> None:
    response = staff.revoker.get(url)

    assert response.status_code in {200, 302}
    if response.status_code == 302:
        assert response["Location"].endswith("?e=1")


def test_a_nul_byte_in_the_events_export_query_is_a_400(staff: Staff) -> None:
    response = staff.revoker.get(
        "/admin/django_sessionguard/sessionevent/export/?kind=%00"
    )

    assert response.status_code == 400


@pytest.mark.parametrize(
    "url",
    [f"{ADMIN}%00/revoke/", f"{ADMIN}%00/change/", f"{ADMIN}a%00b/change/"],
)
def test_a_nul_byte_in_an_admin_reference_is_not_found(staff: Staff, url: str) -> None:
    before = live()

    response = (
        staff.revoker.post(url, {"reason": ""})
        if "/revoke/" in url
        else (staff.revoker.get(url))
    )

    assert response.status_code in {302, 404}  # change view: "doesn't exist" redirect
    assert live() == before
