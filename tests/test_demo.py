"""``make demo``: the example project seeded and served, as a newcomer gets it.

The module starts ``make demo-serve`` (what ``make demo`` runs once ``.venv``
exists) with this test run's interpreter, a temporary SQLite file and a free
loopback port, then uses the site over HTTP like a browser would. The demo
runs on SQLite whatever the leg, so these tests run on the SQLite legs (one
per Django version) and are skipped on the server-database legs.
"""

from __future__ import annotations

import html
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("SESSIONGUARD_TEST_DB", "sqlite") != "sqlite",
        reason="the demo runs on SQLite whatever the leg: tested on the SQLite legs",
    ),
    pytest.mark.skipif(shutil.which("make") is None, reason="needs make"),
]

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "example_project"
#: Seconds to wait for migrate + seed_demo + runserver to answer.
START_TIMEOUT = 120
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"
#: What the seeded story leaves alive (example_project/demo/story.py).
SEEDED_LIVE = {"alice": 4, "bob": 2, "staff": 2}
#: The demo accounts; carol has no seeded sessions (she shows the idle warning).
SEEDED_USERS = ["alice", "bob", "carol", "staff"]
#: alice's seeded devices, by address.
ALICE_DEVICES = {
    "198.51.100.23",
    "2001:db8:4f2a:1::17",
    "2001:db8:7a1::2a",
    "192.0.2.10",
}
#: The seeded crawler: an anonymous session parsed as a bot.
CRAWLER_IP = "192.0.2.66"
SEEDED_KINDS = {
    "login",
    "logout",
    "expired_idle",
    "revoked_user",
    "revoked_staff",
    "evicted",
    "ip_changed",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def demo_environment() -> dict[str, str]:
    """This environment without what would steer the demo elsewhere.

    Plus ``DEMO_FAST_HASHER=1``: the seeding's sign-ins hash passwords with
    MD5, as the rest of the suite does, instead of ~0.4 s of PBKDF2 each.
    """
    env = dict(os.environ, DEMO_FAST_HASHER="1")
    for name in (
        "DJANGO_SETTINGS_MODULE",  # pytest-django's: manage.py picks the demo's
        "DJANGO_DEBUG",
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "DEMO_DB",
        "MAKEFLAGS",  # an outer `make test` must not pass its variables on
        "MFLAGS",
        "MAKELEVEL",
    ):
        env.pop(name, None)
    return env


@dataclass
class Demo:
    url: str
    database: Path
    log: Path
    env: dict[str, str]
    seeded: dict[str, Any]
    #: A copy of the database as seeding left it, before any test used the site.
    snapshot: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def records(database: Path) -> dict[str, Any]:
    """What the demo database holds: users, live sessions per user, events per kind."""
    with sqlite3.connect(database) as connection:
        users = sorted(
            name for (name,) in connection.execute("SELECT username FROM auth_user")
        )
        live = dict(
            connection.execute(
                "SELECT u.username, COUNT(*) FROM sessionguard_session s "
                "JOIN auth_user u ON u.id = s.user_id "
                "WHERE s.expire_date > datetime('now') GROUP BY u.username"
            ).fetchall()
        )
        kinds = dict(
            connection.execute(
                "SELECT kind, COUNT(*) FROM sessionguard_event GROUP BY kind"
            ).fetchall()
        )
        sessions = connection.execute(
            "SELECT COUNT(*) FROM sessionguard_session"
        ).fetchone()[0]
    connection.close()
    return {"users": users, "live": live, "kinds": kinds, "sessions": sessions}


def stop(process: subprocess.Popen[bytes]) -> None:
    """End the demo's process group (make, runserver and its reloader child)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


def wait_until_served(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"make demo-serve exited ({process.returncode}):\n{log.read_text()}"
            )
        try:
            with urllib.request.urlopen(url + "/login/", timeout=2):  # noqa: S310
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.25)
    pytest.fail(f"The demo did not answer in {START_TIMEOUT}s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    where = tmp_path_factory.mktemp("demo")
    database, log = where / "demo.sqlite3", where / "demo.log"
    port = free_port()
    env = demo_environment()
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 (make, our interpreter, our target)
            [
                shutil.which("make") or "make",
                "--no-print-directory",
                "-C",
                str(REPO),
                "demo-serve",
                f"PY={sys.executable}",
                f"DEMO_ADDR=127.0.0.1:{port}",
                f"DEMO_DB={database}",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_served(url, process, log)
        snapshot = where / "seeded.sqlite3"
        with sqlite3.connect(database) as source, sqlite3.connect(snapshot) as copy:
            source.backup(copy)
        source.close()
        copy.close()
        yield Demo(url, database, log, env, records(database), snapshot)
    finally:
        stop(process)


class Browser:
    """Cookies, a User-Agent and Django's CSRF token: enough to use the site."""

    def __init__(self, base: str, user_agent: str = FIREFOX) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies)
        )
        self.opener.addheaders = [("User-Agent", user_agent)]

    def get(self, path: str, accept: str = "text/html") -> tuple[int, str, str]:
        """Status, final URL (after redirects) and body."""
        request = urllib.request.Request(  # noqa: S310 (http://127.0.0.1 only)
            self.base + path, headers={"Accept": accept}
        )
        with self.opener.open(request, timeout=30) as response:
            return response.status, response.url, response.read().decode()

    def sign_in(self, username: str, password: str) -> str:
        """Through the login form; returns the page it lands on."""
        _status, _url, page = self.get("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token is not None, page
        data = urllib.parse.urlencode(
            {
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": token.group(1),
            }
        ).encode()
        with self.opener.open(
            urllib.request.Request(self.base + "/login/", data=data),  # noqa: S310
            timeout=30,
        ) as response:
            assert response.url == self.base + "/", response.url
            return str(response.read().decode())


def test_make_demo_prints_the_accounts_and_the_urls(demo: Demo) -> None:
    output = demo.output()
    for username, password in [
        ("alice", "alice-demo"),
        ("bob", "bob-demo"),
        ("staff", "staff-demo"),
    ]:
        assert re.search(rf"{username}\s+/ {password}\b", output), output
    for path in [
        "/",
        "/login/",
        "/account/sessions/",
        "/admin/",
        "/admin/django_sessionguard/session/dashboard/",
    ]:
        assert f"{demo.url}{path}\n" in output, output
    # "Starting development server" (5.2), "Starting WSGI development server" (6.x)
    assert re.search(rf"Starting .*development server at {demo.url}/", output)


def test_home_and_login_pages_answer(demo: Demo) -> None:
    browser = Browser(demo.url)
    status, _url, home = browser.get("/")
    assert status == 200
    assert "django-sessionguard demo" in home
    assert "<code>alice</code></td><td><code>alice-demo</code>" in home

    status, _url, login = browser.get("/login/")
    assert status == 200
    assert 'name="username"' in login
    assert 'name="password"' in login
    assert 'name="csrfmiddlewaretoken"' in login


def test_alice_signs_in_as_one_more_device(demo: Demo) -> None:
    browser = Browser(demo.url)
    home = browser.sign_in("alice", "alice-demo")
    assert "Signed in as alice." in home
    assert "/account/sessions/" in home

    status, _url, page = browser.get("/account/sessions/")
    assert status == 200
    # The seeded devices, by their addresses and browsers, and this one.
    for shown in [
        "198.51.100.23",
        "2001:db8:4f2a:1::17",
        "2001:db8:7a1::2a",
        "192.0.2.10",
        "Chrome",
        "Mobile Safari",
        "Firefox Mobile",
        "curl",
    ]:
        assert shown in page, shown

    _status, _url, body = browser.get(
        "/account/sessions/api/", accept="application/json"
    )
    sessions = json.loads(body)["sessions"]
    assert len(sessions) == SEEDED_LIVE["alice"] + 1
    assert [s["ip"] for s in sessions if s["current"]] == ["127.0.0.1"]
    assert {s["device_type"] for s in sessions} == {"desktop", "mobile", "other"}


def test_staff_opens_the_dashboard(demo: Demo) -> None:
    browser = Browser(demo.url)
    browser.sign_in("staff", "staff-demo")
    status, _url, page = browser.get("/admin/django_sessionguard/session/dashboard/")
    assert status == 200
    assert "Sessions dashboard" in page


def test_the_crawler_is_a_bot_on_the_dashboard_and_in_the_admin(demo: Demo) -> None:
    browser = Browser(demo.url)
    browser.sign_in("staff", "staff-demo")
    _status, _url, dashboard = browser.get(
        "/admin/django_sessionguard/session/dashboard/"
    )
    # "Bot" among the active sessions by device type, linked to the filter.
    link = re.search(r'<a href="([^"]*device_type__exact=bot)">Bot</a>', dashboard)
    assert link is not None, dashboard
    _status, _url, bots = browser.get(html.unescape(link.group(1)))
    assert CRAWLER_IP in bots
    assert "Googlebot" in bots
    assert "192.0.2.10" not in bots  # alice's curl script: "other", not a bot

    _status, _url, others = browser.get(
        "/admin/django_sessionguard/session/?device_type__exact=other"
    )
    assert "192.0.2.10" in others
    assert CRAWLER_IP not in others


#: Run by ``manage.py shell`` on a copy of the seeded database: which sessions
#: are live an hour after seeding (and after two and a half hours), and what
#: alice sees when she signs in then, with the demo's clock moved forward.
LATER = """
import json
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from django_sessionguard.models import Session
from example_project.demo import browsers
from example_project.demo.accounts import ALICE
from example_project.demo.clock import virtual_time

now = timezone.now()
hour, too_late = now + timedelta(minutes=60), now + timedelta(minutes=150)
users = get_user_model()._default_manager.order_by("username")
live = {
    when: {u.username: Session.objects.live(at, user=u).count() for u in users}
    for when, at in (("hour", hour), ("too_late", too_late))
}
anonymous = Session.objects.live(hour).filter(user=None)
with virtual_time() as clock:
    clock.go(hour)
    browser = browsers.Browser(browsers.UBUNTU_FIREFOX, "198.51.100.99")
    browser.sign_in(ALICE)
    listed = browser.client.get(
        "/account/sessions/api/", secure=True, HTTP_ACCEPT="application/json"
    ).json()["sessions"]
print(json.dumps({
    "live": live,
    "bots": list(anonymous.values_list("device_type", "ip_address")),
    "listed": [(s["ip"], s["current"], s["authenticated_at"]) for s in listed],
    "hour": hour.isoformat(),
}))
"""


def test_the_seeded_devices_are_still_listed_an_hour_later(demo: Demo) -> None:
    """The home page's "alice already has four devices" holds for an hour and more."""
    result = subprocess.run(  # noqa: S603 (our interpreter, our code)
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", LATER],
        cwd=EXAMPLE,
        env={**demo.env, "DEMO_DB": str(demo.snapshot)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    # Live an hour later, by the same definition as the devices page's...
    assert found["live"]["hour"] == {**SEEDED_LIVE, "carol": 0}
    assert found["bots"] == [["bot", CRAWLER_IP]]
    # ...and gone once the demo's two-hour idle timeout has passed.
    assert found["live"]["too_late"] == dict.fromkeys(SEEDED_USERS, 0)
    # Signing in then (the clock moved an hour on), alice's browser is the fifth.
    listed = {ip: current for ip, current, _at in found["listed"]}
    assert listed == {**dict.fromkeys(ALICE_DEVICES, False), "198.51.100.99": True}
    [signed_in_at] = [at for _ip, current, at in found["listed"] if current]
    assert signed_in_at >= found["hour"][:19]


def test_seeding_again_replaces_the_demo_records(demo: Demo) -> None:
    first = demo.seeded
    assert first["users"] == SEEDED_USERS
    assert first["live"] == SEEDED_LIVE
    assert set(first["kinds"]) >= SEEDED_KINDS

    # Whatever the other tests added (their sign-ins) is replaced too.
    subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--verbosity", "0"],
        cwd=EXAMPLE,
        env={**demo.env, "DEMO_DB": str(demo.database)},
        check=True,
        timeout=120,
    )
    assert records(demo.database) == first


PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "example_project.settings_production",
    "DJANGO_SECRET_KEY": "x" * 20 + "-not-a-real-key-but-long-and-varied-0123456789",
    "DJANGO_ALLOWED_HOSTS": "example.com",
    "DATABASE_HOST": "127.0.0.1",
    "DATABASE_PORT": "5432",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "SESSIONGUARD_TRUSTED_PROXIES": "127.0.0.1",
}


def check_deploy(
    env: dict[str, str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    # No database is needed: `check --deploy` passes with nothing listening on
    # the ports. Django 6.1 opens the database anyway, so the demo settings'
    # SQLite file goes to tmp_path, not into the working tree.
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=EXAMPLE,
        env={**demo_environment(), "DEMO_DB": str(tmp_path / "check.sqlite3"), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy(tmp_path: Path) -> None:
    result = check_deploy(PRODUCTION_ENV, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_demo_settings_with_debug_off_pass_check_deploy(tmp_path: Path) -> None:
    result = check_deploy(
        {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": PRODUCTION_ENV["DJANGO_SECRET_KEY"]},
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_require_a_secret_key(tmp_path: Path) -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = check_deploy(env, tmp_path)
    assert result.returncode != 0
    assert "Set the DJANGO_SECRET_KEY environment variable." in result.stderr
