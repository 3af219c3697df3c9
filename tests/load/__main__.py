"""``python -m tests.load``: the load/fuzz run (``make load``; see ``docs/load.md``).

Exit status 0 when every answer was what the clients expected and the
database agrees with what they did; 1 on any violation (a 5xx, a request
signed in without a live session, an effect on another user's sessions...);
2 when the services are missing.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.load import server
from tests.load.browser import Browser
from tests.load.model import OTHER, USER_AGENTS, LoadUser, Run, Tab, Violation
from tests.load.ordinary import sign_in
from tests.load.report import summarise
from tests.load.scenario import client_thread


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.load", description=__doc__)
    parser.add_argument("--requests", type=int, default=10_000, help="after set-up")
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--sessions", type=int, default=3, help="browsers per user")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=12, help="client threads")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--database",
        default=os.environ.get("SESSIONGUARD_LOAD_DB_NAME", "sessionguard_load"),
        help="PostgreSQL database to create (dropped afterwards)",
    )
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 500 requests, 10 users"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.users = 500, 10
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(2**32)
    if args.sessions > 3:
        parser.error("--sessions: at most 3 (the site's limit is 4 per user)")
    return args


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=server.ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def services_answer() -> bool:
    import socket

    try:
        for port in (5432, 6379):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return False
    return True


def delete_redis_keys(prefix: str) -> None:
    import redis

    url = os.environ.get("SESSIONGUARD_LOAD_REDIS_URL", "redis://127.0.0.1:6379/11")
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    finally:
        client.close()


def sign_everyone_in(run: Run, threads: int, seed: int) -> None:
    def sign_in_user(user: LoadUser) -> None:
        run.local.rng = random.Random(seed ^ hash(user.name))
        for tab in user.tabs:
            try:
                sign_in(run, user, tab, kind="setup-login")
            except Violation as exc:
                run.violation(exc.category, f"set-up: {exc}")

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(sign_in_user, run.users))


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    if not services_answer():
        print("PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) must answer.")  # noqa: T201
        return 2
    prefix = f"sessionguard-load-{os.getpid()}"
    extra = {
        "SESSIONGUARD_LOAD_DB_NAME": args.database,
        "SESSIONGUARD_LOAD_PREFIX": prefix,
    }
    os.environ.update(extra)
    os.environ["DJANGO_SETTINGS_MODULE"] = server.SETTINGS
    env = server.server_environ(extra)

    server.recreate_database(args.database)
    try:
        server.migrate(env)
        from tests.load import verify

        verify.setup_django()
        import django
        from django.utils import timezone

        credentials = verify.create_users(args.users, "load-u")
        with (
            tempfile.TemporaryDirectory() as logs,
            server.gunicorn(env, args.workers, Path(logs)) as site,
        ):
            users = [
                LoadUser(
                    name,
                    password,
                    [
                        Tab(Browser(site.host, site.port, USER_AGENTS[(i + j) % 4]))
                        for j in range(args.sessions)
                    ],
                )
                for i, (name, password) in enumerate(credentials)
            ]
            run = Run(site.host, site.port, users, budget=args.requests)
            started = timezone.now()
            sign_everyone_in(run, args.threads, args.seed)
            setup = list(run.records)
            run.records.clear()

            load_before = os.getloadavg()[0]
            began = time.perf_counter()
            clients = [
                threading.Thread(target=client_thread, args=(run, args.seed + n))
                for n in range(args.threads)
            ]
            for thread in clients:
                thread.start()
            for thread in clients:
                thread.join()
            seconds = time.perf_counter() - began
            load_after = os.getloadavg()[0]

            try:
                run.violations.extend(verify.check_database(run, started))
            except Exception as exc:
                run.violations.append((OTHER, f"database check failed: {exc!r}"))
            run.violations.extend(verify.check_error_log(site.error_log))
        context = (
            f"gunicorn {args.workers} sync workers on 127.0.0.1 (Django "
            f"{django.get_version()}, cached_db on PostgreSQL + Redis), "
            f"{args.threads} client threads, {args.users} users x {args.sessions} "
            f"browsers, seed {args.seed}; {platform.python_implementation()} "
            f"{platform.python_version()}, {os.cpu_count()} CPUs (load average "
            f"{load_before:.1f} before, {load_after:.1f} after), commit {commit()}"
        )
        summary = summarise(run.records, setup, seconds, run.violations, context)
        print("\n".join(summary.lines))  # noqa: T201
        return 0 if summary.ok else 1
    finally:
        delete_redis_keys(prefix)
        if not args.keep_database:
            from django.db import connections

            connections.close_all()
            server.drop_database(args.database)


if __name__ == "__main__":
    sys.exit(main())
