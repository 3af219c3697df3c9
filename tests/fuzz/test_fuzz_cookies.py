"""Fuzzing the session cookie: only the exact key of a live session signs anyone in.

The ``Cookie`` header is generated whole (what a real server hands Django:
bytes read as latin-1), with the session cookie's value drawn from arbitrary
text, well-formed keys never issued, other frameworks' session formats,
over-long values and near misses of the real key. The oracle is what Django
itself parses out of the header: the request is signed in exactly when that
value is the key of the live session, and is otherwise served anonymously.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings
from django.http import parse_cookie
from django.test import Client
from hypothesis import assume, given
from hypothesis import strategies as st

from django_sessionguard.keys import hash_key, is_well_formed
from django_sessionguard.models import Session
from tests.fuzz.support import (
    KEY_ALPHABET,
    fuzzing,
    hostile_text,
    latin1_text,
    repeated,
    rolled_back,
)
from tests.user_sessions import WINDOWS_CHROME, start_session

pytestmark = pytest.mark.django_db

#: Session cookies of other frameworks and engines (shapes, not live values).
OTHER_FORMATS = (
    # django.contrib.sessions.backends.signed_cookies / django.core.signing
    "eyJfYXV0aF91c2VyX2lkIjoiMSJ9:1rAbCd:Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eA",
    # Flask (itsdangerous), Express (signed), Rails, PHP, Java, ASP.NET, a JWT
    "eyJ1c2VyX2lkIjoxfQ.ZmR2Zg.3t1pDq0cE2m1YhF0_dWZr8nS0aA",
    "s%3AaBcDeFgHiJkLmNoP.qRsTuVwXyZ0123456789%2BabcdefGHIJKLmnopq",
    "BAh7BkkiD3Nlc3Npb25faWQGOgZFVEkiJTk5YjE3--5b8d0b8f6c8e3a2b1c0d",
    "r2t5uvjq435r4q7ib3vtdjq120",
    "A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D6.node01",
    "CfDJ8Abcdefghijklmnopqrstuvwxyz0123456789-_ABCDEFG",
    "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
    "00000000-0000-0000-0000-000000000000",
)


def near_misses(key: str) -> st.SearchStrategy[str]:
    """Values that look like ``key`` but are not it (and a few that are)."""
    flipped = st.builds(
        lambda index, char: key[:index] + char + key[index + 1 :],
        st.integers(min_value=0, max_value=len(key) - 1),
        st.sampled_from(KEY_ALPHABET),
    )
    return st.one_of(
        flipped,
        st.sampled_from(
            [
                key.upper(),
                key[:-1],
                key[1:],
                key + "0",
                key * 2,
                key[::-1],
                f'"{key}"',  # quoted: Django unquotes it, so it *is* the key
                f" {key} ",  # padded: Django strips it, so it *is* the key
                key + "\x00",
                key + "%00",
                hash_key(key),  # what the database holds is no cookie
            ]
        ),
    )


def cookie_values(key: str) -> st.SearchStrategy[str]:
    return st.one_of(
        latin1_text,
        st.text(KEY_ALPHABET, min_size=32, max_size=64),  # well-formed, unknown
        st.text(KEY_ALPHABET + "ABCDEF-_.:", min_size=16, max_size=80),
        st.sampled_from(OTHER_FORMATS),
        repeated(st.text(KEY_ALPHABET, min_size=1, max_size=8), 100, 1_000),
        near_misses(key),
    )


def cookie_headers(key: str) -> st.SearchStrategy[str]:
    """Whole ``Cookie`` headers carrying a fuzzed session cookie (latin-1)."""
    name = django_settings.SESSION_COOKIE_NAME
    value = cookie_values(key).filter(lambda v: v.isascii() or _latin1(v))
    return st.one_of(
        value.map(lambda v: f"{name}={v}"),
        value.map(lambda v: f"csrftoken=x; {name}={v}; theme=dark"),
        value.map(lambda v: f"{name}={key}; {name}={v}"),  # the last one counts
        value.map(lambda v: f"{name}={v}; {name}={key}"),
        latin1_text,  # a header that may not even name the cookie
        value.map(lambda v: f"{name}={v}={v};;{name}"),
    )


def _latin1(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def parsed_session_cookie(header: str) -> str | None:
    """The session cookie Django reads from ``header`` (as ``WSGIRequest`` does)."""
    cookies = parse_cookie(header.encode("latin-1").decode(errors="replace"))
    return cookies.get(django_settings.SESSION_COOKIE_NAME)


@pytest.fixture
def live_key(engine: str, user: Any) -> str:
    """The cookie of alice's signed-in session."""
    key, _ = start_session(user, user_agent=WINDOWS_CHROME)
    return key


@fuzzing(50)
@given(data=st.data())
def test_only_the_real_key_signs_in(live_key: str, data: st.DataObject) -> None:
    header = data.draw(cookie_headers(live_key), label="Cookie")
    path = data.draw(st.sampled_from(["/read/", "/async-read/"]), label="path")
    signed_in = parsed_session_cookie(header) == live_key

    response = Client().get(path, HTTP_COOKIE=header, HTTP_USER_AGENT=WINDOWS_CHROME)

    assert response.status_code == 200
    assert response.json()["user"] == ("alice" if signed_in else None)


@fuzzing(30)
@given(data=st.data())
def test_writing_with_a_bad_cookie_starts_a_fresh_session(
    live_key: str, data: st.DataObject
) -> None:
    header = data.draw(cookie_headers(live_key), label="Cookie")
    sent = parsed_session_cookie(header)
    name = django_settings.SESSION_COOKIE_NAME

    with rolled_back():
        response = Client().get(
            "/write/?value=7", HTTP_COOKIE=header, HTTP_USER_AGENT=WINDOWS_CHROME
        )

        assert response.status_code == 200
        issued = response.cookies[name].value
        if sent == live_key:
            assert response.json() == {"user": "alice", "counter": 7}
            assert issued == live_key
        else:
            assert response.json() == {"user": None, "counter": 7}
            assert issued != sent
            assert is_well_formed(issued)
            assert Session.objects.get(key_hash=hash_key(issued)).user_id is None
        # Alice's session is never reached through someone else's cookie.
        assert Session.objects.get(key_hash=hash_key(live_key)).user_id is not None


@fuzzing(30)
@given(value=hostile_text)
def test_any_cookie_value_through_the_test_client_jar(
    live_key: str, value: str
) -> None:
    # The client's cookie jar quotes the value as a browser would send it.
    name = django_settings.SESSION_COOKIE_NAME
    client = Client(HTTP_USER_AGENT=WINDOWS_CHROME)
    client.cookies[name] = value
    header = f"{name}={client.cookies[name].coded_value}"
    assume(_latin1(header))  # no real server delivers anything else
    signed_in = parsed_session_cookie(header) == live_key

    response = client.get("/read/")

    assert response.status_code == 200
    assert response.json()["user"] == ("alice" if signed_in else None)
