"""A real ``redis-server`` on a spare loopback port, for the fault tests.

Started with no persistence (``--save "" --appendonly no``), so a kill loses
everything, as a crashed cache would. :meth:`RedisServer.kill` sends SIGKILL,
:meth:`RedisServer.restart` starts a new server on the same port, and
:meth:`RedisServer.pause` / :meth:`RedisServer.resume` send SIGSTOP / SIGCONT: a
paused server accepts connections (the kernel does) but answers nothing, which
is what a hung Redis looks like to its clients.

Readiness is polled, never slept for: every wait has a generous deadline (the
suite runs on loaded two-core machines) and fails with the server's log.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

#: Where the binary is looked for: ``SESSIONGUARD_REDIS_SERVER``, then ``PATH``.
BINARY_ENV = "SESSIONGUARD_REDIS_SERVER"

#: Seconds allowed for a server to start answering.
START_DEADLINE = 20.0


def find_binary() -> str | None:
    """The ``redis-server`` to start, or ``None`` when there is none."""
    explicit = os.environ.get(BINARY_ENV)
    if explicit:
        return explicit
    for candidate in (shutil.which("redis-server"), "/usr/bin/redis-server"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def spare_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(
    condition: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.02
) -> None:
    """Poll ``condition`` until it holds; ``AssertionError`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}.")
        time.sleep(interval)


class RedisServer:
    """One ``redis-server`` process the test owns, on a fixed port once chosen."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary = binary
        self.directory = directory
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        assert self.port is not None, "start() first"
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log(self) -> str:
        path = self.directory / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- life cycle ------------------------------------------------------------

    def start(self) -> None:
        """Start on a spare port (the first time) or on the same port (after a kill)."""
        assert self.process is None, "already running"
        attempts = 1 if self.port is not None else 5
        for _ in range(attempts):
            port = self.port or spare_port()
            if self._launch(port):
                self.port = port
                return
        raise AssertionError(f"redis-server would not start:\n{self.log[-2000:]}")

    def _launch(self, port: int) -> bool:
        self.starts += 1
        arguments = {
            "--port": str(port),
            "--bind": "127.0.0.1",
            "--save": "",
            "--appendonly": "no",
            "--dir": str(self.directory),
            "--logfile": str(self.directory / "redis.log"),
            "--daemonize": "no",
        }
        process = subprocess.Popen(  # noqa: S603 (a fixed binary, our arguments)
            [self.binary, *(part for pair in arguments.items() for part in pair)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False  # e.g. the port was taken meanwhile
            if _answers(port):
                self.process = process
                return True
            time.sleep(0.02)
        process.kill()
        process.wait()
        raise AssertionError(
            f"redis-server on port {port} did not answer within "
            f"{START_DEADLINE:.0f} s:\n{self.log[-2000:]}"
        )

    def kill(self) -> None:
        """SIGKILL: the process and every key it held are gone at once."""
        process = self._running()
        process.send_signal(signal.SIGCONT)  # a paused process dies as well
        process.kill()
        process.wait(timeout=START_DEADLINE)
        self.process = None
        port = self.port
        assert port is not None
        wait_until(lambda: not _accepts(port), timeout=START_DEADLINE, what="the port")

    def restart(self) -> None:
        """A new, empty server on the same port."""
        if self.process is not None:
            self.kill()
        self.start()

    def pause(self) -> None:
        """SIGSTOP: connections are accepted, nothing is answered."""
        self._running().send_signal(signal.SIGSTOP)
        port = self.port
        assert port is not None
        wait_until(lambda: not _answers(port, timeout=0.1), timeout=5, what="SIGSTOP")

    def resume(self) -> None:
        """SIGCONT, then wait until it answers again."""
        self._running().send_signal(signal.SIGCONT)
        port = self.port
        assert port is not None
        wait_until(lambda: _answers(port), timeout=START_DEADLINE, what="SIGCONT")

    @contextmanager
    def paused(self) -> Iterator[None]:
        self.pause()
        try:
            yield
        finally:
            self.resume()

    def close(self) -> None:
        if self.process is not None:
            self.kill()

    def _running(self) -> subprocess.Popen[bytes]:
        assert self.process is not None, "the server is not running"
        return self.process

    # -- looking inside ----------------------------------------------------------

    def keys(self) -> list[str]:
        """Every key the server holds (the suite's own connection, not Django's)."""
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)
        try:
            return sorted(key.decode() for key in client.scan_iter())
        finally:
            client.close()


def _die_with_parent() -> None:
    """Linux: the server gets SIGKILL if the test run itself is killed."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def _answers(port: int, timeout: float = 1.0) -> bool:
    """Whether a server on ``port`` answers ``PING`` within ``timeout`` seconds."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def own_redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A started ``redis-server`` of the test's own, killed when the block ends.

    Skips the test when there is no binary, or fails it under
    ``SESSIONGUARD_REQUIRE_SERVICES=1``.
    """
    import pytest

    binary = find_binary()
    if binary is None:
        message = "no redis-server binary (set SESSIONGUARD_REDIS_SERVER)"
        if os.environ.get("SESSIONGUARD_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    server = RedisServer(binary, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.close()
