"""The counts ``docs/benchmarks.md`` publishes are the counts the code makes.

The page (and its machine-readable twin ``docs/benchmarks.json``) is written by
``make bench``, a run of minutes that only a person starts. A change to an
engine that adds a query or turns an ``MGET`` into a ``GET`` would leave it
stale without anyone noticing; this test notices. It runs the benchmark's own
exact-count measurement (``python -m tests.benchmarks --counts-only``: the same
scenarios, the same stores and the same counted request, nothing timed) and
compares every engine's SQL, write and Redis counts in every scenario with the
JSON, and the JSON with the page's table.

The run gets a PostgreSQL database of its own (created and dropped) and a
``redis-server`` of its own: the number of ``SCAN`` calls Django's cache engine
needs depends on every key in its Redis database, so that database must hold
the benchmark's keys and nothing else, which the suite's shared Redis cannot
promise; and the benchmark flushes its Redis databases.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

from tests.benchmarks.bench_report import (
    REGENERATE,
    compare_counts,
    compare_markdown,
)
from tests.faults.redis_server import RedisServer, own_redis_server

pytestmark = [pytest.mark.services("postgres", "redis"), pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "benchmarks.md"
DATA = ROOT / "docs" / "benchmarks.json"


def published() -> dict[str, Any]:
    if not DATA.exists():
        pytest.fail(f"{DATA.relative_to(ROOT)} does not exist: {REGENERATE}.")
    data: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return data


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    with own_redis_server(tmp_path) as server:
        yield server


@pytest.fixture
def own_database() -> Iterator[dict[str, str]]:
    """``SESSIONGUARD_BENCH_DB_*`` for a database of this run (dropped after)."""
    import psycopg
    from psycopg import sql

    database: dict[str, Any] = django_settings.DATABASES["default"]
    run_id = os.environ.get("SESSIONGUARD_TEST_RUN_ID", str(os.getpid()))
    name = f"sessionguard_benchcounts_{run_id}"
    env = {
        "SESSIONGUARD_BENCH_DB_HOST": str(database["HOST"]),
        "SESSIONGUARD_BENCH_DB_PORT": str(database["PORT"]),
        "SESSIONGUARD_BENCH_DB_USER": str(database["USER"]),
        "SESSIONGUARD_BENCH_DB_PASSWORD": str(database["PASSWORD"] or ""),
        "SESSIONGUARD_BENCH_DB_NAME": name,
    }
    try:
        yield env
    finally:
        with psycopg.connect(
            host=database["HOST"],
            port=database["PORT"],
            user=database["USER"],
            password=database["PASSWORD"] or None,
            dbname="postgres",
            autocommit=True,
        ) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )


def test_the_page_and_its_json_publish_the_same_counts() -> None:
    problems = compare_markdown(PAGE.read_text(encoding="utf-8"), published())
    assert not problems, (
        "docs/benchmarks.md and docs/benchmarks.json disagree (one was edited or "
        f"written by another run); {REGENERATE}:\n  " + "\n  ".join(problems)
    )


def test_the_published_counts_are_the_counts_measured_now(
    own_redis: RedisServer, own_database: dict[str, str], tmp_path: Path
) -> None:
    measured_path = tmp_path / "counts.json"
    env = {
        **os.environ,
        **own_database,
        "SESSIONGUARD_BENCH_REDIS_URL": own_redis.url,  # db 0; Django's cache: 1
        "SESSIONGUARD_BENCH_REVISION": "counts check",
    }
    env.pop("SESSIONGUARD_BENCH_DJANGO_REDIS_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)

    finished = subprocess.run(  # noqa: S603 (our own interpreter and module)
        [
            sys.executable,
            "-m",
            "tests.benchmarks",
            "--counts-only",
            "--json",
            str(measured_path),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert finished.returncode == 0, finished.stdout + finished.stderr
    measured = json.loads(measured_path.read_text(encoding="utf-8"))
    assert measured["results"], "the count run measured nothing"
    problems = compare_counts(published(), measured)
    assert not problems, (
        "The counts published in docs/benchmarks.md / benchmarks.json are not "
        f"what the engines do now; {REGENERATE}:\n  " + "\n  ".join(problems)
    )
