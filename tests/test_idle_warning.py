"""The idle warning's server side: the deadline it reports is the one enforced.

``idle_status`` and the tag report deadlines from the *recorded* last
activity (which lags real activity by up to ``SESSIONGUARD_ACTIVITY_INTERVAL``);
these tests move a controllable clock to just before and just after each
reported deadline and check that the middleware agrees. The browser side is
in ``tests/browser/test_idle_warning_browser.py``.
"""

from __future__ import annotations

import re
import struct
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import translation

import django_sessionguard
from django_sessionguard.backends.db import SessionStore
from django_sessionguard.keys import hash_key
from django_sessionguard.models import Session
from tests.conftest import Clock

pytestmark = pytest.mark.django_db

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
STATUS = "/account/sessions/idle-status/"
EXTEND = "/account/sessions/idle-extend/"
PAGE = "/idle-page/"
PLAIN_PAGE = "/idle-page/no-warning/"
JSON = {"HTTP_ACCEPT": "application/json"}
STATIC = Path(django_sessionguard.__file__).parent / "static" / "django_sessionguard"


@pytest.fixture
def client() -> Client:
    return Client(HTTP_USER_AGENT=CHROME)


@pytest.fixture(autouse=True)
def timeouts(settings: Any) -> Any:
    settings.SESSIONGUARD_IDLE_TIMEOUT = 600
    settings.SESSIONGUARD_ACTIVITY_INTERVAL = 60
    return settings


def log_in(client: Client) -> None:
    response = client.post("/login/", {"username": "alice", "password": "pw"})
    assert response.status_code == 302, response.content


def row(client: Client) -> Session:
    key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    return Session.objects.get(key_hash=hash_key(key))


def recorded_deadline(client: Client, idle: int = 600) -> float:
    """What the middleware enforces: the recorded activity (or sign-in) + idle."""
    session = row(client)
    last = session.last_activity.timestamp()
    if session.authenticated_at is not None:
        last = max(last, session.authenticated_at.timestamp())
    return last + idle


def status(client: Client) -> Any:
    response = client.get(STATUS, **JSON)
    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]
    return response.json()


def move_to(clock: Clock, instant: float) -> None:
    """Move the patched clock so that ``time.time()`` reads ``instant``."""
    clock.advance(instant - time.time())


class Elements(HTMLParser):
    """Every start tag of a fragment, as ``(tag, attributes)``, plus script bodies."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.script_bodies: list[str] = []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.script_bodies.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [
            a
            for t, a in self.elements
            if t == tag
            and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]

    def dialog(self) -> dict[str, str | None]:
        (found,) = [a for t, a in self.elements if "data-sessionguard-idle" in a]
        return found


def rendered_deadline(html: str) -> float:
    value = Elements(html).dialog()["data-idle-deadline"]
    assert value
    return float(value)


# -- the status endpoint ------------------------------------------------------


def test_status_for_a_visitor(client: Client) -> None:
    body = status(client)
    assert body["authenticated"] is False
    assert body["idle_deadline"] is None
    assert body["warning_before"] == 60
    assert abs(body["server_time"] - time.time()) < 5
    assert django_settings.SESSION_COOKIE_NAME not in client.cookies


def test_status_reports_the_recorded_deadline_and_is_passive(
    engine: str, client: Client, user: Any, clock: Clock
) -> None:
    log_in(client)
    signed_in_at = recorded_deadline(client) - 600
    clock.advance(30)
    # A page view inside the interval is not recorded: the deadline stays.
    assert client.get("/read/").status_code == 200
    body = status(client)
    assert body["authenticated"] is True
    assert body["idle_deadline"] == pytest.approx(signed_in_at + 600, abs=0.001)
    assert body["idle_deadline"] == pytest.approx(recorded_deadline(client), abs=0.001)
    assert body["absolute_deadline"] is None
    # Past the interval, asking is still not activity.
    clock.advance(100)
    assert status(client)["idle_deadline"] == pytest.approx(
        signed_in_at + 600, abs=0.001
    )
    assert recorded_deadline(client) == pytest.approx(signed_in_at + 600, abs=0.001)


def test_the_reported_deadline_is_the_enforced_one(
    engine: str, client: Client, user: Any, clock: Clock
) -> None:
    log_in(client)
    clock.advance(45)
    client.get("/read/")  # real activity, not yet recorded (interval 60)
    deadline = status(client)["idle_deadline"]
    move_to(clock, deadline - 0.5)
    assert status(client)["authenticated"] is True
    move_to(clock, deadline + 0.5)
    response = client.get(STATUS, **JSON)
    assert response.status_code == 401
    assert response.json()["reason"] == "expired_idle"
    assert status(client)["authenticated"] is False


def test_the_absolute_deadline_is_reported_and_enforced(
    settings: Any, client: Client, user: Any, clock: Clock
) -> None:
    settings.SESSIONGUARD_ABSOLUTE_TIMEOUT = 900
    settings.SESSIONGUARD_ACTIVITY_INTERVAL = 0
    log_in(client)
    body = status(client)
    assert body["absolute_deadline"] == pytest.approx(
        row(client).authenticated_at.timestamp() + 900, abs=0.001
    )
    for _ in range(3):  # activity never moves it
        clock.advance(299)
        client.get("/read/")
    assert status(client)["absolute_deadline"] == body["absolute_deadline"]
    move_to(clock, body["absolute_deadline"] + 0.5)
    assert client.get(STATUS, **JSON).json()["reason"] == "expired_absolute"


def idle_for_staff(user: Any) -> int:
    return 120 if user.is_staff else 600


def test_a_per_user_idle_timeout_is_reported(
    settings: Any, client: Client, user: Any
) -> None:
    settings.SESSIONGUARD_IDLE_TIMEOUT = f"{__name__}.idle_for_staff"
    user.is_staff = True
    user.save()
    log_in(client)
    assert status(client)["idle_deadline"] == pytest.approx(
        recorded_deadline(client, idle=120), abs=0.001
    )


def test_no_idle_timeout_reports_no_deadline(
    settings: Any, client: Client, user: Any
) -> None:
    settings.SESSIONGUARD_IDLE_TIMEOUT = None
    log_in(client)
    body = status(client)
    assert body["authenticated"] is True
    assert body["idle_deadline"] is None


# -- the page: the deadline its own response will record -----------------------


def test_page_deadline_includes_the_activity_its_response_records(
    engine: str, client: Client, user: Any, clock: Clock
) -> None:
    log_in(client)
    clock.advance(61)  # activity is due: this page view will record it
    before = time.time()
    response = client.get(PAGE)
    assert response.status_code == 200
    deadline = rendered_deadline(response.content.decode())
    enforced = recorded_deadline(client)
    assert before + 600 <= deadline <= enforced
    assert enforced - deadline < 1


def test_page_deadline_inside_the_interval_is_the_recorded_one(
    engine: str, client: Client, user: Any, clock: Clock
) -> None:
    log_in(client)
    enforced = recorded_deadline(client)
    clock.advance(40)  # not due: nothing is recorded, the deadline stays
    deadline = rendered_deadline(client.get(PAGE).content.decode())
    assert deadline == pytest.approx(enforced, abs=0.001)
    assert recorded_deadline(client) == pytest.approx(enforced, abs=0.001)
    move_to(clock, deadline + 0.5)
    assert client.get(PAGE)["Location"].startswith("/login/?next=")


def test_page_deadline_on_a_passive_path_counts_no_activity(
    settings: Any, client: Client, user: Any, clock: Clock
) -> None:
    settings.SESSIONGUARD_PASSIVE_PATHS = [PAGE]
    log_in(client)
    enforced = recorded_deadline(client)
    clock.advance(61)
    deadline = rendered_deadline(client.get(PAGE).content.decode())
    assert deadline == pytest.approx(enforced, abs=0.001)
    assert recorded_deadline(client) == pytest.approx(enforced, abs=0.001)


@pytest.mark.parametrize("page", [PAGE, PLAIN_PAGE], ids=["warning", "no-warning"])
def test_sessions_end_at_the_same_time_with_or_without_the_warning(
    page: str, client: Client, user: Any, clock: Clock
) -> None:
    """The warning is a courtesy: the tag and its polling change no deadline."""
    log_in(client)
    assert client.get(page).status_code == 200
    deadline = recorded_deadline(client)
    for _ in range(5):  # a warning polling the status all along
        clock.advance(100)
        status(client)
    move_to(clock, deadline - 0.5)
    assert status(client)["authenticated"] is True
    move_to(clock, deadline + 0.5)
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={page}"


def test_the_tag_costs_no_query(client: Client, user: Any) -> None:
    log_in(client)
    for page in (PAGE, PLAIN_PAGE):  # warm up: both record their activity
        client.get(page)
    counts = {}
    for page in (PAGE, PLAIN_PAGE):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page).status_code == 200
        # The same statements; only the values (times) differ.
        counts[page] = [
            re.sub(r"'[^']*'", "?", q["sql"]) for q in queries.captured_queries
        ]
    assert counts[PAGE] == counts[PLAIN_PAGE]


# -- "Stay signed in" -----------------------------------------------------------


def test_extend_records_activity_at_once_inside_the_interval(
    engine: str, client: Client, user: Any, clock: Clock
) -> None:
    log_in(client)
    old_deadline = recorded_deadline(client)
    clock.advance(30)  # inside the 60 s interval: a page view would write nothing
    response = client.post(EXTEND, **JSON)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["authenticated"] is True
    assert body["idle_deadline"] == pytest.approx(time.time() + 600, abs=1)
    assert body["idle_deadline"] == pytest.approx(recorded_deadline(client), abs=0.001)
    move_to(clock, old_deadline + 1)
    assert status(client)["authenticated"] is True
    move_to(clock, body["idle_deadline"] + 0.5)
    assert client.get(STATUS, **JSON).status_code == 401


def test_extend_needs_post_and_the_csrf_token(user: Any) -> None:
    client = Client(HTTP_USER_AGENT=CHROME, enforce_csrf_checks=True)
    page = client.get("/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token
    client.post(
        "/login/",
        {"username": "alice", "password": "pw", "csrfmiddlewaretoken": token[1]},
    )
    assert client.get(EXTEND, **JSON).status_code == 405
    assert client.post(EXTEND, **JSON).status_code == 403
    html = client.get(PAGE).content.decode()
    (field,) = Elements(html).find("input", name="csrfmiddlewaretoken")[:1]
    response = client.post(EXTEND, {"csrfmiddlewaretoken": field["value"]}, **JSON)
    assert response.status_code == 200
    assert response.json()["authenticated"] is True


def test_extend_when_signed_out(client: Client) -> None:
    response = client.post(EXTEND, **JSON)
    assert response.status_code == 401
    assert response.json()["authenticated"] is False
    form = client.post(EXTEND, {"next": PAGE})
    assert form.status_code == 302
    assert form["Location"] == f"/login/?next={PAGE}"


def test_extend_when_the_session_already_ended(
    client: Client, user: Any, clock: Clock
) -> None:
    log_in(client)
    clock.advance(601)
    response = client.post(EXTEND, **JSON)
    assert response.status_code == 401
    assert response.json()["reason"] == "expired_idle"


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [(PAGE, PAGE), ("https://evil.example/", "/"), ("", "/")],
)
def test_extend_without_javascript_returns_to_the_page(
    client: Client, user: Any, next_url: str, expected: str
) -> None:
    log_in(client)
    response = client.post(EXTEND, {"next": next_url}, HTTP_ACCEPT="text/html")
    assert response.status_code == 302
    assert response["Location"] == expected


# -- the tag's markup ----------------------------------------------------------


def test_dialog_markup_is_accessible_and_complete(client: Client, user: Any) -> None:
    log_in(client)
    html = client.get(PAGE).content.decode()
    page = Elements(html)
    dialog = page.dialog()
    assert page.find("dialog") == [dialog]
    assert dialog["role"] == "alertdialog"
    assert dialog["aria-modal"] == "true"
    assert page.find("h2", id=dialog["aria-labelledby"])
    assert page.find("p", id=dialog["aria-describedby"])
    assert page.find("p", role="status", aria_live="polite")
    assert page.find("p", role="alert")
    assert dialog["data-status-url"] == STATUS
    assert dialog["data-extend-url"] == EXTEND
    assert dialog["data-login-url"] == f"/login/?next={PAGE}"
    assert dialog["data-next"] == PAGE
    assert dialog["data-warning-before"] == "60"
    assert dialog["data-lang"] == "en-us"
    assert dialog["data-absolute-deadline"] == ""
    assert float(dialog["data-server-time"] or 0) == pytest.approx(time.time(), abs=5)
    assert "You will be signed out in" in html
    assert "60 seconds</span> because of inactivity." in html
    buttons = re.findall(r"<button[^>]*>([^<]+)</button>", html)
    assert buttons == ["Stay signed in", "Sign out now"]
    assert page.find("form", action=EXTEND, method="post")
    assert page.find("form", action="/account/sessions/sign-out/", method="post")


def test_markup_works_under_a_strict_content_security_policy(
    client: Client, user: Any
) -> None:
    log_in(client)
    response = client.get(PAGE)
    assert "script-src 'self'" in response["Content-Security-Policy"]
    page = Elements(response.content.decode())
    scripts = page.find("script")
    assert [s["src"] for s in scripts] == [
        "/static/django_sessionguard/idle-warning.js"
    ]
    assert page.script_bodies == []
    for _tag, attrs in page.elements:
        assert "style" not in attrs
        assert not [name for name in attrs if name.startswith("on")]


def test_logout_url_can_be_chosen(rf: RequestFactory, user: Any) -> None:
    request = signed_in_request(rf, user)
    html = Template(
        "{% load sessionguard_idle %}"
        "{% sessionguard_idle_warning logout_url='logout' %}"
    ).render(Context({"request": request}))
    assert Elements(html).find("form", action="/logout/")


def signed_in_request(rf: RequestFactory, user: Any) -> Any:
    client = Client(HTTP_USER_AGENT=CHROME)
    log_in(client)
    request = rf.get(PAGE, HTTP_USER_AGENT=CHROME)
    request.session = SessionStore(
        client.cookies[django_settings.SESSION_COOKIE_NAME].value
    )
    request.session.bind_request(ip_address="127.0.0.1", user_agent=CHROME)
    request.user = user
    return request


def test_a_visitor_gets_only_the_signed_out_marker(rf: RequestFactory) -> None:
    request = rf.get("/")
    request.session = SessionStore()
    request.user = AnonymousUser()
    html = Template(
        "{% load sessionguard_idle %}{% sessionguard_idle_warning %}"
    ).render(Context({"request": request}))
    page = Elements(html)
    assert page.find("dialog") == []
    (marker,) = [a for t, a in page.elements if "data-signed-out" in a]
    assert marker["data-status-url"] == STATUS
    assert "hidden" in marker
    assert page.find("script")
    assert request.session.session_key is None  # no session created for it


def test_no_timeout_renders_nothing(
    settings: Any, rf: RequestFactory, user: Any
) -> None:
    settings.SESSIONGUARD_IDLE_TIMEOUT = None
    request = signed_in_request(rf, user)
    html = Template(
        "{% load sessionguard_idle %}{% sessionguard_idle_warning %}"
    ).render(Context({"request": request}))
    assert html.strip() == ""


def test_the_tag_needs_the_request() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"context_processors\.request"):
        Template("{% load sessionguard_idle %}{% sessionguard_idle_warning %}").render(
            Context({})
        )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (1, "1 second"),
        (60, "60 seconds"),
        (90, "90 seconds"),
        (91, "2 minutes"),
        (300, "5 minutes"),
    ],
)
def test_time_left_is_worded_like_the_script_words_it(seconds: int, text: str) -> None:
    from django_sessionguard.templatetags.sessionguard_idle import remaining_text

    assert remaining_text(seconds) == text


def write_mo(path: Path, catalog: dict[str, str]) -> None:
    """A GNU gettext ``.mo`` file (the format ``msgfmt`` writes)."""
    header_entry = (
        "Content-Type: text/plain; charset=UTF-8\n"
        "Plural-Forms: nplurals=2; plural=(n != 1);\n"
    )
    entries = sorted({"": header_entry, **catalog}.items())
    ids = [k.encode() for k, _ in entries]
    strs = [v.encode() for _, v in entries]
    header = 7 * 4
    ids_start = header + len(entries) * 16
    data = b""
    offsets = []
    for blob in ids + strs:
        offsets.append((len(blob), ids_start + len(data)))
        data += blob + b"\0"
    table = b"".join(struct.pack("<2I", *o) for o in offsets[: len(ids)])
    table += b"".join(struct.pack("<2I", *o) for o in offsets[len(ids) :])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        struct.pack(
            "<7I", 0x950412DE, 0, len(entries), header, header + len(ids) * 8, 0, 0
        )
        + table
        + data
    )


def test_every_visible_string_is_translatable(
    settings: Any, tmp_path: Path, client: Client, user: Any
) -> None:
    catalog = {
        "Are you still there?": "EO: Are you still there?",
        "You will be signed out in %(time)s because of inactivity.": (
            "EO: %(time)s until you are signed out."
        ),
        "Your session could not be extended. Check your connection and try again.": (
            "EO: could not extend."
        ),
        "Stay signed in": "EO: Stay",
        "Sign out now": "EO: Sign out",
        "You are still signed in.": "EO: still signed in.",
        "%(count)d second\0%(count)d seconds": (
            "EO: %(count)d second\0EO: %(count)d seconds"
        ),
    }
    write_mo(tmp_path / "eo" / "LC_MESSAGES" / "django.mo", catalog)
    settings.LOCALE_PATHS = [tmp_path]
    log_in(client)
    with translation.override("eo"):
        html = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="eo").content.decode()
    assert "EO: Are you still there?" in html
    assert "EO: could not extend." in html
    assert "EO: Stay</button>" in html
    assert "EO: Sign out</button>" in html
    assert 'data-extended-text="EO: still signed in."' in html
    assert (
        'EO: <span data-sessionguard-idle-time="">EO: 60 seconds</span> until you '
        "are signed out." in html
    )
    assert Elements(html).dialog()["data-lang"] == "eo"


# -- setting and checks -----------------------------------------------------------


def test_warning_before_accepts_a_timedelta(settings: Any) -> None:
    from datetime import timedelta

    from django_sessionguard.conf import conf

    settings.SESSIONGUARD_IDLE_WARNING_BEFORE = timedelta(minutes=2)
    assert conf.IDLE_WARNING_BEFORE == 120


@pytest.mark.parametrize("value", ["soon", -1, True])
def test_a_bad_warning_time_is_a_check_error(settings: Any, value: Any) -> None:
    settings.SESSIONGUARD_IDLE_WARNING_BEFORE = value
    ids = [m.id for m in run_checks()]
    assert "django_sessionguard.E020" in ids


def test_a_warning_longer_than_the_idle_timeout_is_a_check_warning(
    settings: Any,
) -> None:
    settings.SESSIONGUARD_IDLE_TIMEOUT = 60
    settings.SESSIONGUARD_IDLE_WARNING_BEFORE = 60
    messages = [m for m in run_checks() if m.id == "django_sessionguard.W020"]
    assert len(messages) == 1
    assert messages[0].hint
    settings.SESSIONGUARD_IDLE_WARNING_BEFORE = 59
    assert "django_sessionguard.W020" not in [m.id for m in run_checks()]


# -- the static files ------------------------------------------------------------


def minified_size(source: str) -> int:
    """Bytes left once comments and layout whitespace are gone (names kept)."""
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    source = re.sub(r"(?m)(^|\s)//\s.*$", "", source)
    source = re.sub(r"\s+", " ", source)
    source = re.sub(r" ?([{}();,=:+\-<>!?&|*/]) ?", r"\1", source)
    return len(source.encode())


def test_the_script_is_small_and_self_contained() -> None:
    source = (STATIC / "idle-warning.js").read_text()
    assert minified_size(source) < 4096
    for forbidden in (
        "eval(",
        "new Function",
        "innerHTML",
        "document.write",
        "jQuery",
        "$(",
    ):
        assert forbidden not in source
    assert "BroadcastChannel" in source
    assert '"storage"' in source
    assert (STATIC / "idle-warning.css").is_file()
