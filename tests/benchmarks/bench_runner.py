"""Django's session engines against ours, in one run, on the same PostgreSQL and Redis.

Every engine gets its own WSGI handler, built under ``override_settings`` with
its ``SESSION_ENGINE`` and session middleware (Django's ``SessionMiddleware``
for Django's engines, ``SessionGuardMiddleware`` for ours), followed by
``AuthenticationMiddleware``. Requests go straight into the handler as WSGI
environ dicts: no test client, no network, so what differs between engines is
the session layer, and the request cycle around it is Django's real one
(request_started / request_finished included).

Engines are measured interleaved: each round gives every engine the same
time in short slices taken in turn (A B C D E A B C D E ..., in a new order
each round); an engine's requests/s is the median over the rounds, a ratio
the median of the per-round ratios. On a noisy machine that is the difference
between a ratio and a coin toss.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import random
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

#: A desktop Chrome: parsed once by our engines, constant across requests.
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
CLIENT_IP = "203.0.113.7"

#: User-Agents of the extra sessions S4/S5 create for a user.
OTHER_DEVICES = (
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "mobile",
        "Mobile Safari",
        "17.5",
        "iOS",
        "17.5",
    ),
    (
        "Mozilla/5.0 (Android 14; Mobile; rv:127.0) Gecko/127.0 Firefox/127.0",
        "mobile",
        "Firefox Mobile",
        "127.0",
        "Android",
        "14",
    ),
    (USER_AGENT, "desktop", "Chrome", "126.0.0", "Windows", "10"),
)


# -- engines -------------------------------------------------------------------


@dataclass(frozen=True)
class Engine:
    key: str
    label: str
    session_engine: str
    middleware: str
    ours: bool

    @property
    def middleware_list(self) -> list[str]:
        return [
            self.middleware,
            "django.contrib.auth.middleware.AuthenticationMiddleware",
        ]


DJANGO_MIDDLEWARE = "django.contrib.sessions.middleware.SessionMiddleware"
OUR_MIDDLEWARE = "django_sessionguard.middleware.SessionGuardMiddleware"

ENGINES = (
    Engine(
        "dj_cache",
        "Django cache",
        "django.contrib.sessions.backends.cache",
        DJANGO_MIDDLEWARE,
        False,
    ),
    Engine(
        "dj_cached_db",
        "Django cached_db",
        "django.contrib.sessions.backends.cached_db",
        DJANGO_MIDDLEWARE,
        False,
    ),
    Engine(
        "dj_db",
        "Django db",
        "django.contrib.sessions.backends.db",
        DJANGO_MIDDLEWARE,
        False,
    ),
    Engine(
        "sg_cached_db",
        "sessionguard cached_db",
        "django_sessionguard.backends.cached_db",
        OUR_MIDDLEWARE,
        True,
    ),
    Engine(
        "sg_db",
        "sessionguard db",
        "django_sessionguard.backends.db",
        OUR_MIDDLEWARE,
        True,
    ),
)
ENGINES_BY_KEY = {engine.key: engine for engine in ENGINES}
BASELINES = ("dj_cache", "dj_cached_db")


class Harness:
    """One engine's request handler, and the settings it runs under."""

    def __init__(self, engine: Engine) -> None:
        from django.core.handlers.wsgi import WSGIHandler

        self.engine = engine
        with self.active():
            self.handler = WSGIHandler()

    @contextmanager
    def active(self, **extra_settings: Any) -> Iterator[None]:
        """This engine's settings; for Django's engines, our receivers unplugged.

        ``django_sessionguard`` is installed (its tables must exist), and its
        ``user_logged_in`` receiver would otherwise stamp Django's sessions too.
        """
        from django.test import override_settings

        from django_sessionguard import receivers

        with ExitStack() as stack:
            stack.enter_context(
                override_settings(
                    SESSION_ENGINE=self.engine.session_engine,
                    MIDDLEWARE=self.engine.middleware_list,
                    **extra_settings,
                )
            )
            if not self.engine.ours:
                _disconnect_receivers()
                stack.callback(receivers.connect)
            yield

    def request(
        self, method: str, path: str, cookie: str | None = None
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """One request through the handler: (status, headers, body)."""
        environ = make_environ(method, path, cookie)
        captured: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]]) -> None:
            captured.append((status, headers))

        response = self.handler(environ, start_response)
        try:
            body = b"".join(response)
        finally:
            response.close()
        status, headers = captured[0]
        return int(status.split()[0]), headers, body


def _disconnect_receivers() -> None:
    from django.contrib.auth.signals import user_logged_in, user_logged_out
    from django.db.models.signals import post_save, pre_delete

    user_logged_in.disconnect(dispatch_uid="sessionguard.login")
    user_logged_out.disconnect(dispatch_uid="sessionguard.logout")
    post_save.disconnect(dispatch_uid="sessionguard.user_saved")
    pre_delete.disconnect(dispatch_uid="sessionguard.user_deleted")


_BASE_ENVIRON = {
    "SERVER_NAME": "testserver",
    "SERVER_PORT": "80",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "SCRIPT_NAME": "",
    "REMOTE_ADDR": CLIENT_IP,
    "HTTP_HOST": "testserver",
    "HTTP_USER_AGENT": USER_AGENT,
    "HTTP_ACCEPT": "text/html,application/json",
    "wsgi.version": (1, 0),
    "wsgi.url_scheme": "http",
    "wsgi.errors": sys.stderr,
    "wsgi.multithread": False,
    "wsgi.multiprocess": True,
    "wsgi.run_once": False,
}


def make_environ(method: str, path: str, cookie: str | None) -> dict[str, Any]:
    path, _, query = path.partition("?")
    environ = dict(_BASE_ENVIRON)
    environ.update(
        REQUEST_METHOD=method,
        PATH_INFO=path,
        QUERY_STRING=query,
        CONTENT_LENGTH="0",
        CONTENT_TYPE="application/octet-stream",
    )
    environ["wsgi.input"] = io.BytesIO(b"")
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    return environ


def session_cookie(headers: list[tuple[str, str]]) -> str | None:
    """``sessionid=…`` from a response's Set-Cookie headers, if one was set."""
    from django.conf import settings

    prefix = f"{settings.SESSION_COOKIE_NAME}="
    for name, value in headers:
        value = value.strip()
        if name.lower() == "set-cookie" and value.startswith(prefix):
            pair = value.split(";", 1)[0]
            if pair != prefix and pair != f'{prefix}""':
                return pair
    return None


# -- scenarios -------------------------------------------------------------------


class BenchmarkError(RuntimeError):
    """A scenario answered something other than what it should have."""


@dataclass
class Case:
    """One engine's setup for one scenario: the request to time, how to check it."""

    method: str
    path: str
    cookie: str | None
    check: Callable[[int, list[tuple[str, str]], bytes], None]
    #: Untimed work before each timed request (S5 re-creates the sessions to end).
    before_each: Callable[[], None] | None = None


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    setup: Callable[[Harness, int], Case]
    ours_only: bool = False
    sizes: tuple[int, ...] = (0,)
    settings: dict[str, Any] = field(default_factory=dict)
    #: Timed requests per slice at least.
    min_iterations: int = 1
    #: Slices a round is cut into (fewer for slow requests).
    slices: int = 8
    #: Rounds, as a multiple of ``--rounds`` (more for the headline scenario).
    round_factor: int = 1

    def label(self, n: int) -> str:
        return f"{self.key} N={n}" if n else self.key


def _user(username: str) -> Any:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    user, created = user_model._default_manager.get_or_create(username=username)
    if created:
        user.set_unusable_password()
        user.save()
    return user


def _login(harness: Harness, username: str) -> str:
    _user(username)
    status, headers, body = harness.request("POST", f"/login/?u={username}")
    cookie = session_cookie(headers)
    if status != 200 or cookie is None:
        raise BenchmarkError(
            f"{harness.engine.label}: login failed ({status} {body!r})"
        )
    return cookie


def _expect(
    status_code: int, text: str | None = None
) -> Callable[[int, list[tuple[str, str]], bytes], None]:
    def check(status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        if status != status_code or (text is not None and text not in body.decode()):
            raise BenchmarkError(
                f"expected {status_code} {text!r}, got {status} {body!r}"
            )

    return check


def setup_read(harness: Harness, n: int) -> Case:
    username = f"s1_{harness.engine.key}"
    cookie = _login(harness, username)
    return Case("GET", "/read/", cookie, _expect(200, username))


def setup_write(harness: Harness, n: int) -> Case:
    username = f"s2_{harness.engine.key}"
    cookie = _login(harness, username)
    return Case("GET", "/write/", cookie, _expect(200, username))


def _setup_login(prefix: str) -> Callable[[Harness, int], Case]:
    def setup(harness: Harness, n: int) -> Case:
        username = f"{prefix}_{harness.engine.key}"
        _user(username)

        def check(status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            if status != 200 or session_cookie(headers) is None:
                raise BenchmarkError(f"login: {status} {body!r}")

        return Case("POST", f"/login/?u={username}", None, check)

    return setup


def add_sessions(user: Any, count: int, engine: Engine) -> None:
    """Give ``user`` ``count`` more live sessions on other devices (cached too)."""
    from django.conf import settings
    from django.core.cache import caches
    from django.utils import timezone

    from django_sessionguard.backends import cached_db
    from django_sessionguard.keys import reference_for
    from django_sessionguard.models import Session

    if count <= 0:
        return
    now = timezone.now()
    rows = []
    for i in range(count):
        key_hash = secrets.token_hex(32)
        ua, device_type, browser, browser_version, os_name, os_version = OTHER_DEVICES[
            i % len(OTHER_DEVICES)
        ]
        rows.append(
            Session(
                key_hash=key_hash,
                reference=reference_for(key_hash),
                session_data="{}",
                expire_date=now + timedelta(days=14),
                user=user,
                ip_address=f"198.51.100.{i % 250 + 1}",
                user_agent=ua,
                device_type=device_type,
                browser=browser,
                browser_version=browser_version,
                os=os_name,
                os_version=os_version,
                created_at=now - timedelta(minutes=i),
                authenticated_at=now - timedelta(minutes=i),
                last_activity=now - timedelta(seconds=i),
            )
        )
    Session.objects.bulk_create(rows, batch_size=1000)
    if engine.session_engine.endswith("cached_db"):
        entry = ({"_auth_user_id": str(user.pk)}, None)
        caches[settings.SESSION_CACHE_ALIAS].set_many(
            {
                cached_db.SessionStore.data_cache_key(row.key_hash): entry
                for row in rows
            },
            14 * 24 * 3600,
        )


def setup_list(harness: Harness, n: int) -> Case:
    username = f"s4_{harness.engine.key}_{n}"
    cookie = _login(harness, username)
    add_sessions(_user(username), n - 1, harness.engine)

    def check(status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        found = len(json.loads(body)["sessions"]) if status == 200 else None
        if found != n:
            raise BenchmarkError(f"listed {found} sessions, expected {n}: {status}")

    return Case("GET", "/sessions/", cookie, check)


def setup_revoke(harness: Harness, n: int) -> Case:
    username = f"s5_{harness.engine.key}_{n}"
    cookie = _login(harness, username)
    user = _user(username)

    def check(status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        revoked = json.loads(body)["revoked"] if status == 200 else None
        if revoked != n:
            raise BenchmarkError(f"revoked {revoked} sessions, expected {n}: {status}")

    return Case(
        "POST",
        "/revoke-others/",
        cookie,
        check,
        before_each=lambda: add_sessions(user, n, harness.engine),
    )


SCENARIOS = (
    Scenario(
        "S1", "authenticated read (user + one session key)", setup_read, round_factor=3
    ),
    Scenario("S2", "write one session key", setup_write),
    Scenario("S3", "login (new session, no password hashing)", _setup_login("s3")),
    Scenario(
        "S3L",
        "login with SESSIONGUARD_MAX_SESSIONS=3 (evicts the oldest)",
        _setup_login("s3l"),
        ours_only=True,
        settings={"SESSIONGUARD_MAX_SESSIONS": 3},
    ),
    Scenario(
        "S4",
        "list the user's N sessions (JSON)",
        setup_list,
        ours_only=True,
        sizes=(1, 50, 1000),
        slices=2,
    ),
    Scenario(
        "S5",
        "revoke the user's N other sessions",
        setup_revoke,
        ours_only=True,
        sizes=(1, 50, 1000),
        slices=1,
    ),
)


# -- measuring -------------------------------------------------------------------


@dataclass
class Result:
    engine: Engine
    scenario: Scenario
    n: int
    rates: list[float] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)
    sql: list[str] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.rates)


def run_batch(
    harness: Harness, case: Case, seconds: float, min_iterations: int
) -> tuple[int, float]:
    """(requests, timed seconds) of one batch: at least ``seconds`` of requests.

    Only the requests are timed, not ``case.before_each``.
    """
    handler = harness.handler
    method, path, cookie = case.method, case.path, case.cookie
    before_each = case.before_each
    noop = _noop_start_response
    elapsed = 0.0
    done = 0
    clock = time.perf_counter
    while elapsed < seconds or done < min_iterations:
        if before_each is not None:
            before_each()
        environ = make_environ(method, path, cookie)
        start = clock()
        response = handler(environ, noop)
        b"".join(response)
        response.close()
        elapsed += clock() - start
        done += 1
    return done, elapsed


def _noop_start_response(status: str, headers: list[tuple[str, str]]) -> None:
    return None


def measure_counts(harness: Harness, case: Case) -> tuple[dict[str, Any], list[str]]:
    from tests.benchmarks.bench_counting import count_everything

    if case.before_each is not None:
        case.before_each()
    with count_everything() as counts:
        status, headers, body = harness.request(case.method, case.path, case.cookie)
    case.check(status, headers, body)
    return counts.to_dict(), counts.sql_summary()


def run(
    scenarios: list[Scenario],
    engines: list[Engine],
    *,
    rounds: int,
    seconds: float,
    sizes: tuple[int, ...] | None,
    log: Callable[[str], None],
) -> list[Result]:
    harnesses = {engine.key: Harness(engine) for engine in engines}
    results: list[Result] = []
    for scenario in scenarios:
        members = [e for e in engines if e.ours or not scenario.ours_only]
        for n in scenario.sizes:
            if sizes is not None and n and n not in sizes:
                continue
            group = {e.key: Result(e, scenario, n) for e in members}
            cases: dict[str, Case] = {}
            for engine in members:
                harness = harnesses[engine.key]
                with harness.active(**scenario.settings):
                    cases[engine.key] = scenario.setup(harness, n)
            # Fresh tables have no planner statistics; a real database has.
            analyze()
            for engine in members:
                harness = harnesses[engine.key]
                case = cases[engine.key]
                with harness.active(**scenario.settings):
                    # Warm up (connections, caches, parsers), checking answers.
                    for _ in range(3):
                        if case.before_each is not None:
                            case.before_each()
                        case.check(
                            *harness.request(case.method, case.path, case.cookie)
                        )
                    run_batch(harness, case, seconds / 2, 1)
                    counts, sql = measure_counts(harness, case)
                    group[engine.key].counts = counts
                    group[engine.key].sql = sql
            started = time.perf_counter()
            gc.collect()
            for round_no in range(rounds * scenario.round_factor):
                # A round gives every engine ``seconds`` of requests, cut into
                # slices taken in turn (A B C D E A B C D E ...), so that
                # whatever else the machine does meanwhile hits all alike.
                # A new order every round (seeded: runs are repeatable), so
                # that no engine always follows the same one.
                order = list(members)
                random.Random(round_no).shuffle(order)
                totals = {engine.key: [0, 0.0] for engine in members}
                for _ in range(scenario.slices):
                    for engine in order:
                        harness = harnesses[engine.key]
                        with harness.active(**scenario.settings):
                            done, elapsed = run_batch(
                                harness,
                                cases[engine.key],
                                seconds / scenario.slices,
                                scenario.min_iterations,
                            )
                        totals[engine.key][0] += done
                        totals[engine.key][1] += elapsed
                for key, (done, elapsed) in totals.items():
                    group[key].rates.append(done / elapsed)
            log(
                f"  {scenario.label(n):<10} {len(members)} engines x "
                f"{rounds * scenario.round_factor} rounds "
                f"in {time.perf_counter() - started:.1f}s"
            )
            results.extend(group.values())
    return results


# -- set-up ----------------------------------------------------------------------


def prepare_services(log: Callable[[str], None]) -> None:
    """Create and migrate the benchmark database, empty it, flush Redis db 9."""
    import django
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    admin_conninfo = {
        "host": db["HOST"],
        "port": db["PORT"],
        "user": db["USER"],
        "password": db["PASSWORD"] or None,
        "dbname": "postgres",
    }
    with psycopg.connect(autocommit=True, **admin_conninfo) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
        ).fetchone()
        if not exists:
            log(f"Creating database {db['NAME']}")
            conn.execute(
                psycopg.sql.SQL("CREATE DATABASE {}").format(
                    psycopg.sql.Identifier(db["NAME"])
                )
            )
    django.setup()
    from django.core.management import call_command
    from django_redis import get_redis_connection

    call_command("migrate", verbosity=0, interactive=False)
    call_command("flush", verbosity=0, interactive=False)
    get_redis_connection("default").flushdb()


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def code_revision() -> str:
    """The commit benchmarked, marked ``+changes`` when the package differs from it."""
    import os
    import subprocess

    if os.environ.get("SESSIONGUARD_BENCH_REVISION"):
        return os.environ["SESSIONGUARD_BENCH_REVISION"]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "django_sessionguard"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}+changes" if dirty else commit


def machine_note() -> dict[str, str]:
    import os
    import platform

    import django
    from django.db import connection
    from django_redis import get_redis_connection

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    pg = connection.pg_version  # type: ignore[attr-defined]
    redis_info = get_redis_connection("default").info("server")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "cpu": f"{cpu}, {os.cpu_count()} CPUs (load average at start: {load})",
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": f"{pg // 10000}.{pg % 10000}",
        "redis": str(redis_info.get("redis_version")),
        "os": platform.platform(),
        "revision": code_revision(),
    }


# -- command line ----------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run in seconds (3 rounds, short batches, N<=50); no markdown",
    )
    parser.add_argument("--rounds", type=int, help="rounds per scenario (default 21)")
    parser.add_argument(
        "--seconds",
        type=float,
        help="timed seconds per engine per round (default 0.08)",
    )
    parser.add_argument(
        "--scenarios", help="comma-separated subset, e.g. S1,S2 (default: all)"
    )
    parser.add_argument(
        "--engines",
        help="comma-separated subset of " + ", ".join(ENGINES_BY_KEY),
    )
    parser.add_argument(
        "--markdown",
        metavar="PATH",
        help="write markdown here (default: docs/benchmarks.md; none with --quick)",
    )
    parser.add_argument(
        "--no-markdown", action="store_true", help="print only, write no file"
    )
    parser.add_argument(
        "--sql", action="store_true", help="also print every SQL statement counted"
    )
    parser.add_argument(
        "--profile",
        metavar="ENGINE:SCENARIO",
        help="cProfile one engine on one scenario instead, e.g. sg_cached_db:S1",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 if S1 misses the target (our cached_db >= 0.95x Django cache)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from tests.benchmarks import bench_report

    args = parse_args(argv)

    def log(message: str) -> None:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()

    rounds = args.rounds or (3 if args.quick else 21)
    seconds = args.seconds or (0.02 if args.quick else 0.08)
    sizes = (1, 50) if args.quick else None
    scenarios = list(SCENARIOS)
    if args.scenarios:
        wanted = {s.strip().upper() for s in args.scenarios.split(",")}
        scenarios = [s for s in scenarios if s.key in wanted]
    engines = list(ENGINES)
    if args.engines:
        wanted = {e.strip() for e in args.engines.split(",")}
        engines = [e for e in engines if e.key in wanted]

    prepare_services(log)
    if args.profile:
        from tests.benchmarks.bench_profile import profile

        engine_key, _, scenario_key = args.profile.partition(":")
        return profile(
            Harness(ENGINES_BY_KEY[engine_key]),
            next(s for s in SCENARIOS if s.key == (scenario_key or "S1").upper()),
            seconds=args.seconds or 3.0,
        )

    machine = machine_note()
    log(
        f"Benchmarking {len(engines)} engines, {len(scenarios)} scenarios, "
        f"{rounds} rounds x {seconds}s per engine…"
    )
    started = time.perf_counter()
    try:
        results = run(
            scenarios, engines, rounds=rounds, seconds=seconds, sizes=sizes, log=log
        )
    except BenchmarkError as exc:
        log(f"FAILED: {exc}")
        return 2
    duration = time.perf_counter() - started
    meta = {
        **machine,
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "rounds": str(rounds),
        "seconds": str(seconds),
        "duration": f"{duration:.0f}s",
        "mode": "quick" if args.quick else "full",
    }
    report = bench_report.Report(results, meta)
    sys.stdout.write(report.text(show_sql=args.sql))
    sys.stdout.flush()
    target_ok = report.target_met()
    if not args.no_markdown and (args.markdown or not args.quick):
        path = args.markdown or "docs/benchmarks.md"
        with open(path, "w", encoding="utf-8") as out:
            out.write(report.markdown())
        log(f"Wrote {path}")
    if args.strict and target_ok is False:
        return 1
    return 0
