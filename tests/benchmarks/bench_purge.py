"""Batched purge of expired sessions on PostgreSQL: time, batches, peak memory.

    python -m tests.benchmarks.bench_purge [--rows 200000] [--compare 50000]
                                           [--batch-size 1000] [--live 1000]

For each row count, a fresh Python process seeds that many expired sessions
(plus ``--live`` live ones) with one server-side ``INSERT ... SELECT
generate_series`` (nothing passes through Python), runs ``manage.py
clearsessions``, and reports the elapsed time, the number of batches, the
longest batch (how long one statement holds its row locks) and the process's
peak RSS (``getrusage``) before and after the purge. The same count is then
seeded again and removed by one plain ``DELETE ... WHERE expire_date < now()``,
for comparison: the statement a naive purge would run.

Peak memory that does not grow from ``--compare`` rows to ``--rows`` rows is
the claim under test: the command holds one batch of keys at a time.

Uses the benchmark's settings (``tests.benchmarks.settings``) with its own
database, ``sessionguard_bench_purge`` (created and migrated here; override
with ``SESSIONGUARD_BENCH_DB_NAME``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

os.environ.setdefault("SESSIONGUARD_BENCH_DB_NAME", "sessionguard_bench_purge")
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.benchmarks.settings"

ENGINE = "django_sessionguard.backends.db"
#: A realistic signed, compressed session payload is a few hundred characters.
PAYLOAD_CHARS = 300


def peak_rss_mib() -> float:
    """This process's peak resident set size so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


# -- database --------------------------------------------------------------------


def prepare_database() -> None:
    """Create the benchmark database if needed and migrate it."""
    import django
    import psycopg
    import psycopg.sql
    from django.conf import settings

    db = settings.DATABASES["default"]
    conninfo = {
        "host": db["HOST"],
        "port": db["PORT"],
        "user": db["USER"],
        "password": db["PASSWORD"] or None,
        "dbname": "postgres",
    }
    with psycopg.connect(autocommit=True, **conninfo) as conn:
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

    call_command("migrate", verbosity=0, interactive=False)


def column_expressions(expired: bool) -> tuple[list[str], list[str]]:
    """Column names and SQL expressions (of ``g``, the series) for one row."""
    from django.db import models

    from django_sessionguard.models import Session

    expiry = "now() - interval '1 hour'" if expired else "now() + interval '1 day'"
    tag = "x" if expired else "l"
    special = {
        "key_hash": f"encode(sha256(convert_to('{tag}' || g, 'UTF8')), 'hex')",
        "reference": f"substr(md5('{tag}' || g), 1, 32)",
        "session_data": f"repeat('a', {PAYLOAD_CHARS})",
        "expire_date": expiry,
    }
    names, expressions = [], []
    for field in Session._meta.concrete_fields:
        names.append(field.column)
        if field.name in special:
            expressions.append(special[field.name])
        elif field.null:
            expressions.append("NULL")
        elif isinstance(field, models.DateTimeField):
            expressions.append("now()")
        elif field.has_default() and not callable(field.default):
            expressions.append("'" + str(field.default).replace("'", "''") + "'")
        elif isinstance(field, models.CharField | models.TextField):
            expressions.append("''")
        else:
            raise RuntimeError(f"No seed value for Session.{field.name}")
    return names, expressions


def seed(expired_rows: int, live_rows: int) -> float:
    """Empty the table, insert the rows server-side; returns seconds taken."""
    from django.db import connection

    from django_sessionguard.models import Session

    table = connection.ops.quote_name(Session._meta.db_table)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}")
        for count, expired in ((expired_rows, True), (live_rows, False)):
            names, expressions = column_expressions(expired)
            columns = ", ".join(connection.ops.quote_name(name) for name in names)
            cursor.execute(
                f"INSERT INTO {table} ({columns}) "  # noqa: S608 -- no user input
                f"SELECT {', '.join(expressions)} FROM generate_series(1, %s) AS g",
                [count],
            )
        cursor.execute(f"VACUUM ANALYZE {table}")
    return time.perf_counter() - started


# -- one measurement, in a fresh process -------------------------------------------


class BatchClock:
    """Stands in for stdout at ``--verbosity 2``: times each batch, keeps nothing."""

    def __init__(self) -> None:
        self.lines = 0
        self.last = time.perf_counter()
        self.longest = 0.0

    def write(self, text: str) -> None:
        now = time.perf_counter()
        self.lines += len(text.splitlines())
        self.longest = max(self.longest, now - self.last)
        self.last = now

    def flush(self) -> None:
        pass


def measure(expired_rows: int, live_rows: int, batch_size: int) -> dict[str, Any]:
    import django

    django.setup()
    import gc

    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings
    from django.utils import timezone

    from django_sessionguard.management.commands import clearsessions
    from django_sessionguard.models import Session

    seed_seconds = seed(expired_rows, live_rows)
    gc.collect()
    rss_before = peak_rss_mib()
    clock = BatchClock()
    with override_settings(SESSION_ENGINE=ENGINE):
        started = time.perf_counter()
        clock.last = started
        # Ours, by class: these settings also install django.contrib.sessions,
        # whose own clearsessions comes first in INSTALLED_APPS.
        call_command(
            clearsessions.Command(), batch_size=batch_size, verbosity=2, stdout=clock
        )
        elapsed = time.perf_counter() - started
    rss_after = peak_rss_mib()
    left_expired = Session.objects.filter(expire_date__lte=timezone.now()).count()
    left_live = Session.objects.count()

    # The naive purge, for comparison: one statement over every expired row.
    seed(expired_rows, 0)
    table = connection.ops.quote_name(Session._meta.db_table)
    with connection.cursor() as cursor:
        single_started = time.perf_counter()
        cursor.execute(f"DELETE FROM {table} WHERE expire_date < now()")  # noqa: S608
        single = time.perf_counter() - single_started
    return {
        "expired_rows": expired_rows,
        "live_rows": live_rows,
        "batch_size": batch_size,
        "seed_seconds": round(seed_seconds, 2),
        "purge_seconds": round(elapsed, 2),
        "rows_per_second": round(expired_rows / elapsed) if elapsed else None,
        # Every batch writes one line, plus the final total.
        "batches": clock.lines - 1,
        "longest_batch_ms": round(clock.longest * 1000, 1),
        "single_delete_seconds": round(single, 2),
        "peak_rss_before_mib": round(rss_before, 1),
        "peak_rss_after_mib": round(rss_after, 1),
        "peak_rss_growth_mib": round(rss_after - rss_before, 1),
        "expired_left": left_expired,
        "live_left": left_live,
    }


# -- the comparison ---------------------------------------------------------------


def run_child(expired_rows: int, live_rows: int, batch_size: int) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "tests.benchmarks.bench_purge",
        "--child",
        str(expired_rows),
        "--live",
        str(live_rows),
        "--batch-size",
        str(batch_size),
    ]
    done = subprocess.run(  # noqa: S603 -- our own interpreter and module
        command, check=False, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def report(results: list[dict[str, Any]]) -> str:
    rows = [
        ("expired rows", "expired_rows", "{:,}"),
        ("live rows (kept)", "live_left", "{:,}"),
        ("expired rows left", "expired_left", "{:,}"),
        ("batches", "batches", "{:,}"),
        ("purge time (s)", "purge_seconds", "{:.2f}"),
        ("rows / s", "rows_per_second", "{:,}"),
        ("longest batch (ms)", "longest_batch_ms", "{:.1f}"),
        ("one plain DELETE (s)", "single_delete_seconds", "{:.2f}"),
        ("peak RSS before purge (MiB)", "peak_rss_before_mib", "{:.1f}"),
        ("peak RSS after purge (MiB)", "peak_rss_after_mib", "{:.1f}"),
        ("peak RSS growth (MiB)", "peak_rss_growth_mib", "{:.1f}"),
    ]
    width = max(len(label) for label, _key, _fmt in rows) + 2
    lines = [
        f"clearsessions on PostgreSQL, --batch-size {results[0]['batch_size']}",
        "",
    ]
    for label, key, fmt in rows:
        values = "".join(f"{fmt.format(result[key]):>14}" for result in results)
        lines.append(f"{label:<{width}}{values}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--compare", type=int, default=50_000)
    parser.add_argument("--live", type=int, default=1_000)
    parser.add_argument("--batch-size", type=int, default=1_000)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        result = measure(args.child, args.live, args.batch_size)
        sys.stdout.write(json.dumps(result) + "\n")
        return 0

    prepare_database()
    results = []
    for count in sorted({args.compare, args.rows}):
        log(f"Purging {count:,} expired rows...")
        results.append(run_child(count, args.live, args.batch_size))
    sys.stdout.write(report(results) + "\n")
    failures = [r for r in results if r["expired_left"] or r["live_left"] != args.live]
    if len(results) > 1:
        small, large = results[0], results[-1]
        growth = large["peak_rss_after_mib"] - small["peak_rss_after_mib"]
        sys.stdout.write(
            f"\nPeak RSS at {large['expired_rows']:,} rows vs "
            f"{small['expired_rows']:,} rows: {growth:+.1f} MiB "
            f"({large['expired_rows'] / small['expired_rows']:.0f}x the rows).\n"
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
