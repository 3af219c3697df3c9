"""The admin on a million sessions: ``python -m tests.benchmarks.bench_admin``.

Seeds a PostgreSQL database of its own (``sessionguard_admin_bench``, created
and migrated here) with 1,000,000 session rows, 50,000 users and 1,000,000
audit events, written by the server itself (``INSERT ... SELECT
generate_series``), then times admin pages through Django's test ``Client``
as a superuser: the sessions list (default, filtered, searched), a session's
page, the events list, the user page and the dashboard with a cold cache.

Each page is requested ``--runs`` times (after one warm-up request that fills
PostgreSQL's buffers and the browser/OS family lists); the median and the
slowest run are reported, with the number of SQL queries. "Cold" means the
default cache was cleared before every run (the dashboard's aggregations and
the family lists are recomputed each time).

The figures are written into ``docs/admin.md`` between the
``bench_admin`` markers (``--no-write`` to only print them). The seeded
database is kept and reused; ``--reseed`` rebuilds it.

Connection: ``SESSIONGUARD_BENCH_DB_HOST`` / ``_PORT`` / ``_USER`` /
``_PASSWORD`` (default 127.0.0.1:5432, user postgres, trust) and
``SESSIONGUARD_ADMIN_BENCH_DB_NAME``.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DB_NAME = os.environ.get("SESSIONGUARD_ADMIN_BENCH_DB_NAME", "sessionguard_admin_bench")
DATABASE = {
    "ENGINE": "django.db.backends.postgresql",
    "HOST": os.environ.get("SESSIONGUARD_BENCH_DB_HOST", "127.0.0.1"),
    "PORT": int(os.environ.get("SESSIONGUARD_BENCH_DB_PORT", "5432")),
    "USER": os.environ.get("SESSIONGUARD_BENCH_DB_USER", "postgres"),
    "PASSWORD": os.environ.get("SESSIONGUARD_BENCH_DB_PASSWORD", ""),
    "NAME": DB_NAME,
    "CONN_MAX_AGE": None,
}

SESSIONS = 1_000_000
USERS = 50_000
EVENTS = 1_000_000
DOC = Path(__file__).resolve().parents[2] / "docs" / "admin.md"
START, END = "<!-- bench_admin:start -->", "<!-- bench_admin:end -->"

#: (User-Agent, device type, browser, version, OS, OS version, weight in 100).
DEVICES = [
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
        "Gecko) Chrome/124.0.0.0 Safari/537.36",
        "desktop",
        "Chrome",
        "124.0.0",
        "Windows",
        "10",
        34,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        "mobile",
        "Mobile Safari",
        "17.4",
        "iOS",
        "17.4",
        22,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like "
        "Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
        "mobile",
        "Chrome Mobile",
        "124.0.0",
        "Android",
        "14",
        18,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Version/17.4.1 Safari/605.1.15",
        "desktop",
        "Safari",
        "17.4.1",
        "Mac OS X",
        "14.4.1",
        9,
    ),
    (
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:126.0) Gecko/20100101 "
        "Firefox/126.0",
        "desktop",
        "Firefox",
        "126.0",
        "Ubuntu",
        "",
        8,
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like "
        "Gecko) Chrome/123.0.6312.118 Safari/537.36",
        "tablet",
        "Chrome",
        "123.0.6312",
        "Android",
        "13",
        5,
    ),
    (
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "bot",
        "Googlebot",
        "2.1",
        "",
        "",
        3,
    ),
    ("curl/8.5.0", "other", "curl", "8.5.0", "", "", 1),
]


def configure() -> None:
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="sessionguard-admin-benchmark-not-a-secret",
        ALLOWED_HOSTS=["testserver"],
        USE_TZ=True,
        TIME_ZONE="UTC",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        DATABASES={"default": DATABASE},
        CACHES={
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
        },
        SESSION_ENGINE="django_sessionguard.backends.db",
        INSTALLED_APPS=[
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.messages",
            "django_sessionguard",
        ],
        MIDDLEWARE=[
            "django_sessionguard.middleware.SessionGuardMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
        ],
        ROOT_URLCONF=__name__,
        STATIC_URL="/static/",
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ]
                },
            }
        ],
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        LOGGING={
            "version": 1,
            "disable_existing_loggers": False,
            "loggers": {"django_sessionguard": {"level": "WARNING"}},
        },
    )
    import django

    django.setup()


def _urls() -> list[Any]:
    from django.contrib import admin
    from django.urls import path

    return [path("admin/", admin.site.urls)]


def __getattr__(name: str) -> Any:  # ROOT_URLCONF is this module
    if name == "urlpatterns":
        return _urls()
    raise AttributeError(name)


# -- the database -------------------------------------------------------------


def ensure_database() -> None:
    import psycopg

    admin = {k: v for k, v in DATABASE.items() if k in ("HOST", "PORT", "USER")}
    with psycopg.connect(
        host=admin["HOST"],
        port=admin["PORT"],
        user=admin["USER"],
        password=DATABASE["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{DB_NAME}"')


def seeded() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE relname = 'sessionguard_session'"
        )
        row = cursor.fetchone()
    return bool(row) and row[0] >= SESSIONS * 0.95


def _device_case(column: int, pick: str) -> str:
    """A SQL CASE giving DEVICES[i][column] for the weighted bucket ``pick``."""
    parts, upper = [], 0
    for device in DEVICES:
        upper += device[6]
        value = str(device[column]).replace("'", "''")
        parts.append(f"WHEN {pick} < {upper} THEN '{value}'")
    return "CASE " + " ".join(parts) + " END"


def seed(log: Callable[[str], None]) -> None:
    """Fill the tables in SQL on the server: a few seconds per million rows."""
    from django.db import connection

    with connection.cursor() as cursor:
        log("  clearing tables")
        cursor.execute(
            "TRUNCATE sessionguard_session, sessionguard_event, django_admin_log, "
            "auth_user_user_permissions, auth_user_groups, auth_user CASCADE"
        )
        log(f"  {USERS:,} users")
        cursor.execute(
            """
            INSERT INTO auth_user (password, is_superuser, username, first_name,
                last_name, email, is_staff, is_active, date_joined)
            SELECT '!', false, 'user' || i, '', '', 'user' || i || '@example.com',
                   i <= 20, true, now() - interval '400 days'
            FROM generate_series(1, %s) AS i
            """,
            [USERS],
        )
        cursor.execute("SELECT min(id) FROM auth_user")
        base = cursor.fetchone()[0] - 1
        log(f"  {SESSIONS:,} sessions")
        # pick: the device bucket (0-99); u: a user, skewed so a few users
        # have many sessions; age: days since last activity, most recent
        # first; 15% anonymous.
        cursor.execute(
            f"""
            INSERT INTO sessionguard_session (key_hash, reference, session_data,
                expire_date, user_id, ip_address, user_agent, device_type, browser,
                browser_version, os, os_version, created_at, authenticated_at,
                last_activity)
            SELECT md5('k' || i) || md5('h' || i),
                   md5('r' || i),
                   'e30:1sGQ:bench',
                   last_activity + interval '14 days',
                   CASE WHEN anonymous THEN NULL ELSE u END,
                   CASE WHEN i %% 10 = 0
                        THEN ('2001:db8:' || to_hex(i %% 65536) || '::'
                              || to_hex(i / 65536))::inet
                        ELSE ((i %% 223 + 1) || '.' || (i / 223 %% 256) || '.'
                              || (i / 57088 %% 256) || '.' || (i %% 250 + 1))::inet
                   END,
                   {_device_case(0, "pick")},
                   {_device_case(1, "pick")},
                   {_device_case(2, "pick")},
                   {_device_case(3, "pick")},
                   {_device_case(4, "pick")},
                   {_device_case(5, "pick")},
                   last_activity - created_ago,
                   CASE WHEN anonymous THEN NULL
                        ELSE last_activity - created_ago + interval '3 seconds' END,
                   last_activity
            FROM (
                SELECT i,
                       (abs(hashint4(i)) %% 100) AS pick,
                       %s + 1 + floor(%s * power(random(), 3))::int AS u,
                       random() < 0.15 AS anonymous,
                       now() - power(random(), 2) * interval '40 days'
                           AS last_activity,
                       random() * interval '20 days' AS created_ago
                FROM generate_series(1, %s) AS i
            ) AS s
            """,  # noqa: S608 (built from the constants above)
            [base, USERS, SESSIONS],
        )
        log(f"  {EVENTS:,} events")
        kinds = (
            "CASE WHEN k < 60 THEN 'login' WHEN k < 80 THEN 'created' "
            "WHEN k < 90 THEN 'logout' WHEN k < 95 THEN 'expired_idle' "
            "WHEN k < 96 THEN 'evicted' WHEN k < 97 THEN 'ip_changed' "
            "WHEN k < 98 THEN 'ua_changed' WHEN k < 99 THEN 'login_denied' "
            "ELSE 'revoked_staff' END"
        )
        cursor.execute(
            f"""
            INSERT INTO sessionguard_event (kind, timestamp, session_ref, user_id,
                actor_id, ip_address, device, detail)
            SELECT {kinds},
                   now() - random() * interval '60 days',
                   md5('r' || (i %% %s)),
                   %s + 1 + floor(%s * power(random(), 3))::int,
                   CASE WHEN k >= 99 THEN %s + 1 + (i %% 20) END,
                   ((i %% 223 + 1) || '.' || (i / 223 %% 256) || '.0.1')::inet,
                   'Chrome 124.0.0 on Windows 10',
                   '{{}}'::jsonb
            FROM (SELECT i, abs(hashint4(i + 7)) %% 100 AS k
                  FROM generate_series(1, %s) AS i) AS e
            """,  # noqa: S608 (built from the constants above)
            [SESSIONS, base, USERS, base, EVENTS],
        )
    log("  VACUUM ANALYZE")
    with connection.cursor() as cursor:
        for table in ("auth_user", "sessionguard_session", "sessionguard_event"):
            cursor.execute(f"VACUUM ANALYZE {table}")


# -- the measurements -----------------------------------------------------------


@dataclass
class Result:
    name: str
    url: str
    median_ms: float
    max_ms: float
    queries: int
    slowest_query_ms: float
    cold: bool


def measure(
    client: Any, name: str, url: str, runs: int, *, cold: bool = False
) -> Result:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)  # warm-up: buffers, family lists, templates
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    times = []
    queries = 0
    slowest = 0.0
    for _ in range(runs):
        if cold:
            cache.clear()
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            content = response.content
            times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200 or not content:
            raise RuntimeError(f"{url} answered {response.status_code}")
        queries = len(captured.captured_queries)
        slowest = max(
            slowest,
            max(float(q["time"]) * 1000 for q in captured.captured_queries),
        )
    return Result(
        name, url, statistics.median(times), max(times), queries, slowest, cold
    )


def scenarios() -> list[tuple[str, str, bool]]:
    from datetime import timedelta

    from django.urls import reverse
    from django.utils import timezone
    from django.utils.http import urlencode

    from django_sessionguard.models import Session

    sessions = reverse("admin:django_sessionguard_session_changelist")
    events = reverse("admin:django_sessionguard_sessionevent_changelist")
    dashboard = reverse("admin:django_sessionguard_session_dashboard")
    reference = Session.objects.order_by("-last_activity").values_list(
        "reference", flat=True
    )[500]
    user_id = Session.objects.filter(user__isnull=False).values_list(
        "user_id", flat=True
    )[0]
    ip = Session.objects.exclude(ip_address__contains=":").values_list(
        "ip_address", flat=True
    )[1000]
    ip_prefix = ".".join(ip.split(".")[:2]) + "."
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    week = urlencode(
        {
            "authenticated_at__gte": str(midnight - timedelta(days=7)),
            "authenticated_at__lt": str(midnight + timedelta(days=1)),
        }
    )
    return [
        ("Sessions list, default (newest activity first)", sessions, False),
        ("Sessions list, default, cold family lists", sessions, True),
        ("Sessions list, page 200", f"{sessions}?p=200", False),
        ("Filtered: active", f"{sessions}?status=active", False),
        (
            "Filtered: active + Firefox + signed in",
            f"{sessions}?status=active&browser=Firefox&authenticated=yes",
            False,
        ),
        ("Filtered: expired", f"{sessions}?status=expired", False),
        ("Filtered: tablets", f"{sessions}?device_type__exact=tablet", False),
        ("Filtered: rare browser (curl, 1%)", f"{sessions}?browser=curl", False),
        ("Filtered: signed in past 7 days", f"{sessions}?{week}", False),
        ("Filtered: one user", f"{sessions}?user={user_id}", False),
        ("Searched: username (user4711)", f"{sessions}?q=user4711", False),
        ("Searched: e-mail", f"{sessions}?q=user12%40example.com", False),
        ("Searched: IP address", f"{sessions}?q={ip}", False),
        ("Searched: IP prefix /16", f"{sessions}?q={ip_prefix}", False),
        ("Searched: IPv6 prefix", f"{sessions}?q=2001%3Adb8%3A1a%3A", False),
        ("Searched: session reference", f"{sessions}?q={reference}", False),
        ("Session page", f"{sessions}{reference}/change/", False),
        ("Events list", events, False),
        ("Events: security kind", f"{events}?kind__exact=evicted", False),
        ("Events: searched user", f"{events}?q=user4711", False),
        ("User page with sessions", f"/admin/auth/user/{user_id}/change/", False),
        ("Dashboard, cold cache", dashboard, True),
        ("Dashboard, cached", dashboard, False),
    ]


def markdown(results: list[Result], runs: int, counts: dict[str, int]) -> str:
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    lines = [
        START,
        "",
        f"Measured by `python -m tests.benchmarks.bench_admin` on "
        f"{time.strftime('%Y-%m-%d')}: PostgreSQL {server}, Django "
        f"{django.get_version()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs. {counts['sessions']:,} sessions "
        f"({counts['active']:,} active), {counts['users']:,} users, "
        f"{counts['events']:,} events. Whole request through the test client "
        f"(middleware, view, template), median of {runs} runs.",
        "",
        "| Page | median ms | slowest ms | SQL queries | slowest query ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for result in results:
        lines.append(
            f"| {result.name} | {result.median_ms:.0f} | {result.max_ms:.0f} | "
            f"{result.queries} | {result.slowest_query_ms:.0f} |"
        )
    lines += ["", END]
    return "\n".join(lines)


def write_doc(block: str) -> None:
    text = DOC.read_text()
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{DOC} has no {START} ... {END} block to fill.")
    DOC.write_text(pattern.sub(lambda _m: block, text))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        sys.stderr.write(message + "\n")

    ensure_database()
    configure()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from django_sessionguard.models import Session, SessionEvent

    call_command("migrate", verbosity=0)
    if args.reseed or not seeded():
        log(f"Seeding {DB_NAME}:")
        started = time.perf_counter()
        seed(log)
        log(f"  done in {time.perf_counter() - started:.1f} s")
    user_model = get_user_model()
    root, _created = user_model.objects.get_or_create(
        username="bench-admin",
        defaults={"is_staff": True, "is_superuser": True, "email": "a@example.com"},
    )
    client = Client()
    client.force_login(root)

    counts = {
        "sessions": Session.objects.count(),
        "active": Session.objects.filter(expire_date__gt=timezone.now()).count(),
        "users": user_model.objects.count(),
        "events": SessionEvent.objects.count(),
    }
    results = []
    for name, url, cold in scenarios():
        result = measure(client, name, url, args.runs, cold=cold)
        results.append(result)
        log(
            f"{name:<50} {result.median_ms:7.1f} ms (max {result.max_ms:6.1f}) "
            f"{result.queries:3d} queries, slowest {result.slowest_query_ms:6.1f} ms"
        )
    block = markdown(results, args.runs, counts)
    sys.stdout.write(block + "\n")
    if not args.no_write:
        write_doc(block)
        log(f"Wrote the figures into {DOC}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
