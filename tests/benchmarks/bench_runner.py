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

Every scenario, at every N, starts from the same stores: emptied, then the
scenario's users and their sessions, then other users' sessions
(``bench_stores``). ``--counts-only`` measures the exact counts alone (no
timing, in seconds): what ``tests/test_benchmark_counts.py`` compares with the
counts published in ``docs/benchmarks.json``.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.benchmarks.bench_stores import (
    DJANGO_CACHE_ALIAS,
    OTHER_SESSIONS,
    add_sessions,
    others_needed,
    reset_stores,
    seed_others,
)

#: A desktop Chrome: parsed once by our engines, constant across requests.
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
CLIENT_IP = "203.0.113.7"

# -- engines -------------------------------------------------------------------


@dataclass(frozen=True)
class Engine:
    key: str
    label: str
    session_engine: str
    middleware: str
    ours: bool
    #: Where its sessions live (``bench_stores``): engines sharing a store
    #: share its population.
    store: str
    #: Its ``SESSION_CACHE_ALIAS``.
    cache_alias: str = "default"

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
        "django_cache",
        DJANGO_CACHE_ALIAS,
    ),
    Engine(
        "dj_cached_db",
        "Django cached_db",
        "django.contrib.sessions.backends.cached_db",
        DJANGO_MIDDLEWARE,
        False,
        "django_db",
    ),
    Engine(
        "dj_db",
        "Django db",
        "django.contrib.sessions.backends.db",
        DJANGO_MIDDLEWARE,
        False,
        "django_db",
    ),
    Engine(
        "sg_cached_db",
        "sessionguard cached_db",
        "django_sessionguard.backends.cached_db",
        OUR_MIDDLEWARE,
        True,
        "sessionguard",
    ),
    Engine(
        "sg_db",
        "sessionguard db",
        "django_sessionguard.backends.db",
        OUR_MIDDLEWARE,
        True,
        "sessionguard",
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
                    SESSION_CACHE_ALIAS=self.engine.cache_alias,
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

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], object]:
            captured.append((status, headers))
            return _ignore_write

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
    #: The user's sessions in the store between timed requests (what the
    #: other engines sharing the store count among "other users' sessions").
    sessions: int
    #: Untimed work before each timed request (S5 re-creates the sessions to end).
    before_each: Callable[[], None] | None = None


def _no_settings(n: int) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    setup: Callable[[Harness, int], Case]
    ours_only: bool = False
    #: The N the scenario runs at (0: no N).
    sizes: tuple[int, ...] = (0,)
    #: Settings for N, on top of the engine's.
    settings: Callable[[int], dict[str, Any]] = _no_settings
    #: Timed requests per slice at least.
    min_iterations: int = 1
    #: Slices a round is cut into (fewer for slow requests).
    slices: int = 8
    #: Rounds, as a multiple of ``--rounds``, by N (more for the headline).
    round_factors: dict[int, int] = field(default_factory=dict)
    #: What N means, for the report.
    n_means: str = ""

    def label(self, n: int) -> str:
        return f"{self.key} N={n}" if n else self.key

    def rounds(self, n: int, rounds: int) -> int:
        return rounds * self.round_factors.get(n, 1)


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


def _check_login(status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    if status != 200 or session_cookie(headers) is None:
        raise BenchmarkError(f"login: {status} {body!r}")


def setup_read(harness: Harness, n: int) -> Case:
    username = f"s1_{harness.engine.key}_{n}"
    cookie = _login(harness, username)
    add_sessions(_user(username), n - 1, harness.engine)
    return Case("GET", "/read/", cookie, _expect(200, username), sessions=n)


def setup_write(harness: Harness, n: int) -> Case:
    username = f"s2_{harness.engine.key}"
    cookie = _login(harness, username)
    return Case("GET", "/write/", cookie, _expect(200, username), sessions=1)


def setup_login(harness: Harness, n: int) -> Case:
    username = f"s3_{harness.engine.key}"
    _user(username)
    return Case("POST", f"/login/?u={username}", None, _check_login, sessions=0)


def setup_login_at_limit(harness: Harness, n: int) -> Case:
    """The user already has N live sessions, the limit (see ``_limit``): each
    sign-in evicts the least recently active one, so there are N again."""
    username = f"s3l_{harness.engine.key}_{n}"
    add_sessions(_user(username), n, harness.engine)
    return Case("POST", f"/login/?u={username}", None, _check_login, sessions=n)


def _limit(n: int) -> dict[str, Any]:
    return {"SESSIONGUARD_MAX_SESSIONS": n}


def setup_list(harness: Harness, n: int) -> Case:
    username = f"s4_{harness.engine.key}_{n}"
    cookie = _login(harness, username)
    add_sessions(_user(username), n - 1, harness.engine)

    def check(status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        found = len(json.loads(body)["sessions"]) if status == 200 else None
        if found != n:
            raise BenchmarkError(f"listed {found} sessions, expected {n}: {status}")

    return Case("GET", "/sessions/", cookie, check, sessions=n)


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
        # After each request only the current one is left.
        sessions=1,
        before_each=lambda: add_sessions(user, n, harness.engine),
    )


SIZES = (1, 50, 1000)

SCENARIOS = (
    Scenario(
        "S1",
        "authenticated read (user + one session key)",
        setup_read,
        sizes=SIZES,
        round_factors={1: 3},
        n_means="the user's sessions, this one included",
    ),
    Scenario("S2", "write one session key", setup_write),
    Scenario("S3", "login (new session, no password hashing)", setup_login),
    Scenario(
        "S3L",
        "login of a user at a limit of N sessions (SESSIONGUARD_MAX_SESSIONS=N): "
        "the least recently active one is evicted",
        setup_login_at_limit,
        ours_only=True,
        sizes=SIZES,
        settings=_limit,
        n_means="the limit, and the user's live sessions before the sign-in",
    ),
    Scenario(
        "S4",
        "list the user's N sessions (JSON)",
        setup_list,
        sizes=SIZES,
        slices=2,
        n_means="the user's sessions, this one included",
    ),
    Scenario(
        "S5",
        "revoke the user's N other sessions",
        setup_revoke,
        sizes=SIZES,
        slices=1,
        n_means="the user's sessions besides this one",
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


def _noop_start_response(
    status: str, headers: list[tuple[str, str]], exc_info: Any = None
) -> Callable[[bytes], object]:
    return _ignore_write


def _ignore_write(data: bytes) -> None:
    """The WSGI ``write()`` callable (Django's handler never calls it)."""


def warm_up(harness: Harness, case: Case, requests: int) -> None:
    """Requests whose answers are checked, not timed (connections, caches,
    parsers warm; the store in the state every timed request finds)."""
    for _ in range(requests):
        if case.before_each is not None:
            case.before_each()
        case.check(*harness.request(case.method, case.path, case.cookie))


def measure_counts(harness: Harness, case: Case) -> tuple[dict[str, Any], list[str]]:
    """The exact counts of one (checked) request, after ``warm_up``."""
    from tests.benchmarks.bench_counting import count_everything

    if case.before_each is not None:
        case.before_each()
    with count_everything() as counts:
        status, headers, body = harness.request(case.method, case.path, case.cookie)
    case.check(status, headers, body)
    return counts.to_dict(), counts.sql_summary()


def groups(
    scenarios: list[Scenario], sizes: tuple[int, ...] | None
) -> Iterator[tuple[Scenario, int]]:
    """(scenario, N) in order; ``sizes`` limits the N (None: all)."""
    for scenario in scenarios:
        for n in scenario.sizes:
            if sizes is None or not n or n in sizes:
                yield scenario, n


def prepare_group(
    scenario: Scenario,
    n: int,
    members: list[Engine],
    harnesses: dict[str, Harness],
) -> dict[str, Case]:
    """Empty stores, each engine's user and sessions, the others' sessions."""
    reset_stores()
    cases: dict[str, Case] = {}
    for engine in members:
        harness = harnesses[engine.key]
        with harness.active(**scenario.settings(n)):
            cases[engine.key] = scenario.setup(harness, n)
    by_store: dict[str, list[int]] = {}
    for engine in members:
        by_store.setdefault(engine.store, []).append(cases[engine.key].sessions)
    for store, own in by_store.items():
        seed_others(store, others_needed(own))
    # Fresh tables have no planner statistics; a real database has.
    analyze()
    return cases


def run_counts(
    scenarios: list[Scenario],
    engines: list[Engine],
    *,
    sizes: tuple[int, ...] | None,
    log: Callable[[str], None],
) -> list[Result]:
    """``--counts-only``: every group's exact counts, nothing timed.

    The same set-up and the same measured request as :func:`run`, after one
    warm-up request instead of three and a batch: the counts are the same.
    """
    harnesses = {engine.key: Harness(engine) for engine in engines}
    results: list[Result] = []
    for scenario, n in groups(scenarios, sizes):
        started = time.perf_counter()
        members = [e for e in engines if e.ours or not scenario.ours_only]
        cases = prepare_group(scenario, n, members, harnesses)
        for engine in members:
            harness = harnesses[engine.key]
            case = cases[engine.key]
            result = Result(engine, scenario, n)
            with harness.active(**scenario.settings(n)):
                warm_up(harness, case, 1)
                result.counts, result.sql = measure_counts(harness, case)
            results.append(result)
        log(
            f"  {scenario.label(n):<10} counts of {len(members)} engines "
            f"in {time.perf_counter() - started:.1f}s"
        )
    return results


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
    for scenario, n in groups(scenarios, sizes):
        members = [e for e in engines if e.ours or not scenario.ours_only]
        group = {e.key: Result(e, scenario, n) for e in members}
        settings = scenario.settings(n)
        cases = prepare_group(scenario, n, members, harnesses)
        for engine in members:
            harness = harnesses[engine.key]
            case = cases[engine.key]
            with harness.active(**settings):
                warm_up(harness, case, 3)
                run_batch(harness, case, seconds / 2, 1)
                counts, sql = measure_counts(harness, case)
                group[engine.key].counts = counts
                group[engine.key].sql = sql
        started = time.perf_counter()
        gc.collect()
        group_rounds = scenario.rounds(n, rounds)
        for round_no in range(group_rounds):
            # A round gives every engine ``seconds`` of requests, cut into
            # slices taken in turn (A B C D E A B C D E ...), so that
            # whatever else the machine does meanwhile hits all alike.
            # A new order every round (seeded: runs are repeatable), so
            # that no engine always follows the same one.
            order = list(members)
            random.Random(round_no).shuffle(order)
            totals = {engine.key: [0.0, 0.0] for engine in members}
            for _ in range(scenario.slices):
                for engine in order:
                    harness = harnesses[engine.key]
                    with harness.active(**settings):
                        done, elapsed = run_batch(
                            harness,
                            cases[engine.key],
                            seconds / scenario.slices,
                            scenario.min_iterations,
                        )
                    totals[engine.key][0] += done
                    totals[engine.key][1] += elapsed
            for key, (requests, timed) in totals.items():
                group[key].rates.append(requests / timed)
        log(
            f"  {scenario.label(n):<10} {len(members)} engines x "
            f"{group_rounds} rounds in {time.perf_counter() - started:.1f}s"
        )
        results.extend(group.values())
    return results


# -- set-up ----------------------------------------------------------------------


def prepare_services(log: Callable[[str], None]) -> None:
    """Create and migrate the benchmark database, empty it, flush both Redis dbs."""
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

    if (
        settings.CACHES["default"]["LOCATION"]
        == settings.CACHES[DJANGO_CACHE_ALIAS]["LOCATION"]
    ):
        raise BenchmarkError(
            "SESSIONGUARD_BENCH_REDIS_URL and SESSIONGUARD_BENCH_DJANGO_REDIS_URL "
            "must name two Redis databases: Django's cache engine is searched by "
            "SCAN, which walks the whole database"
        )
    call_command("migrate", verbosity=0, interactive=False)
    call_command("flush", verbosity=0, interactive=False)
    for alias in ("default", DJANGO_CACHE_ALIAS):
        get_redis_connection(alias).flushdb()


def analyze() -> None:
    """Planner statistics for the tables the scenarios read."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.models import Session as DjangoSession
    from django.db import connection

    from django_sessionguard.models import Session, SessionEvent

    tables = [
        model._meta.db_table
        for model in (get_user_model(), DjangoSession, Session, SessionEvent)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables)
        )


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
    return {
        "cpu": f"{cpu}, {os.cpu_count()} CPUs",
        "cpus": str(os.cpu_count() or 0),
        "load_start": load_average(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": f"{pg // 10000}.{pg % 10000}",
        "redis": str(redis_info.get("redis_version")),
        "os": platform.platform(),
        "revision": code_revision(),
    }


def load_average() -> str:
    """``"7.53, 8.43, 7.22"``: the 1, 5 and 15 minute load averages."""
    import os

    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


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
    parser.add_argument(
        "--counts-only",
        action="store_true",
        help="only the exact counts (SQL, writes, Redis), every N, nothing timed: "
        "seconds, whatever the machine's load; prints them, writes no markdown",
    )
    parser.add_argument(
        "--json",
        metavar="PATH",
        help="also write the results as JSON here (a markdown run always writes "
        "them next to the page too: docs/benchmarks.json)",
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
    # --counts-only: every N, as the published page has them.
    sizes = (1, 50) if args.quick and not args.counts_only else None
    scenarios = list(SCENARIOS)
    if args.scenarios:
        wanted = {s.strip().upper() for s in args.scenarios.split(",")}
        scenarios = [s for s in scenarios if s.key in wanted]
    engines = list(ENGINES)
    if args.engines:
        wanted = {e.strip() for e in args.engines.split(",")}
        engines = [e for e in engines if e.key in wanted]

    try:
        prepare_services(log)
    except BenchmarkError as exc:
        log(f"FAILED: {exc}")
        return 2
    if args.profile:
        from tests.benchmarks.bench_profile import profile

        engine_key, _, scenario_key = args.profile.partition(":")
        return profile(
            Harness(ENGINES_BY_KEY[engine_key]),
            next(s for s in SCENARIOS if s.key == (scenario_key or "S1").upper()),
            seconds=args.seconds or 3.0,
        )

    machine = machine_note()
    if args.counts_only:
        log(
            f"Counting with {len(engines)} engines, {len(scenarios)} scenarios "
            "(nothing timed)…"
        )
    else:
        log(
            f"Benchmarking {len(engines)} engines, {len(scenarios)} scenarios, "
            f"{rounds} rounds x {seconds}s per engine…"
        )
    started = time.perf_counter()
    try:
        if args.counts_only:
            results = run_counts(scenarios, engines, sizes=sizes, log=log)
        else:
            results = run(
                scenarios,
                engines,
                rounds=rounds,
                seconds=seconds,
                sizes=sizes,
                log=log,
            )
    except BenchmarkError as exc:
        log(f"FAILED: {exc}")
        return 2
    duration = time.perf_counter() - started
    meta = {
        **machine,
        "load_end": load_average(),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "rounds": str(rounds),
        "seconds": str(seconds),
        "duration": f"{duration:.0f}s",
        "mode": "counts" if args.counts_only else "quick" if args.quick else "full",
        "other_sessions": str(OTHER_SESSIONS),
    }
    report = bench_report.Report(results, meta)
    if args.counts_only:
        sys.stdout.write(report.counts_text(show_sql=args.sql))
    else:
        sys.stdout.write(report.text(show_sql=args.sql))
    sys.stdout.flush()
    if args.json:
        bench_report.write_json(args.json, report.data())
        log(f"Wrote {args.json}")
    if args.counts_only:
        return 0
    target_ok = report.target_met()
    if not args.no_markdown and (args.markdown or not args.quick):
        path = args.markdown or "docs/benchmarks.md"
        with open(path, "w", encoding="utf-8") as out:
            out.write(report.markdown())
        log(f"Wrote {path}")
        data_path = bench_report.data_path(path)
        bench_report.write_json(data_path, report.data())
        log(f"Wrote {data_path}")
    if args.strict and target_ok is False:
        log(f"--strict: S1 missed the target ({bench_report.S1_TARGET}x Django cache)")
        return 1
    return 0
