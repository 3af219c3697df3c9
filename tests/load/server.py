"""The served site: a fresh database, migrations, and gunicorn on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "tests.load.settings"


@dataclass(frozen=True)
class Site:
    """Where the run's server listens, and its error log."""

    host: str
    port: int
    error_log: Path


def server_environ(extra: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, **extra, "DJANGO_SETTINGS_MODULE": SETTINGS}
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), str(ROOT / "example_project"), env.get("PYTHONPATH")])
    )
    return env


def _maintenance_connection() -> Any:
    """An autocommit connection to the server's ``postgres`` database."""
    import psycopg

    return psycopg.connect(
        host=os.environ.get("SESSIONGUARD_LOAD_DB_HOST", "127.0.0.1"),
        port=int(os.environ.get("SESSIONGUARD_LOAD_DB_PORT", "5432")),
        user=os.environ.get("SESSIONGUARD_LOAD_DB_USER", "postgres"),
        password=os.environ.get("SESSIONGUARD_LOAD_DB_PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    )


def drop_database(name: str) -> None:
    from psycopg import sql

    with _maintenance_connection() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )


def recreate_database(name: str) -> None:
    """Drop and create ``name`` on the PostgreSQL server the settings name."""
    from psycopg import sql

    drop_database(name)
    with _maintenance_connection() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_listening(
    host: str, port: int, process: subprocess.Popen[bytes]
) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode}")
        try:
            socket.create_connection((host, port), timeout=1).close()
        except OSError:
            time.sleep(0.2)
        else:
            return
    raise RuntimeError("gunicorn did not start listening within 60 s")


@contextmanager
def gunicorn(env: dict[str, str], workers: int, log_dir: Path) -> Iterator[Site]:
    """Serve the example project with ``workers`` sync workers on 127.0.0.1."""
    host = "127.0.0.1"
    port = free_port(host)
    error_log = log_dir / "gunicorn-error.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "example_project.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--timeout",
        "60",
        "--backlog",
        "256",
        "--error-logfile",
        str(error_log),
        "--log-level",
        "warning",
        "--capture-output",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603
    try:
        wait_until_listening(host, port, process)
        yield Site(host, port, error_log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
