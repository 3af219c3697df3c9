"""One browser in its own OS process, for the concurrent sign-in test.

Run as ``python -m tests.login_worker <index>`` with the environment the test
gives it (``DJANGO_SETTINGS_MODULE=tests.settings``, the test database's name
in ``SESSIONGUARD_TEST_DB_NAME``, the run id that names this run's Redis keys,
and ``WORKER_*`` for the engine and the limit). It talks to the test over
stdin/stdout, one JSON line per step, so that every process signs in at the
same moment:

1. prints ``{"ready": true}`` once Django is set up and its connections open;
2. on ``go``: posts the login form, prints what happened;
3. on ``check``: asks who it is, prints the answer, exits.

Each process has its own interpreter, database connection and Redis
connection: the limit can only hold if the database lock serialises them.
"""

from __future__ import annotations

import json
import os
import sys


def _say(message: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _wait_for(word: str) -> None:
    line = sys.stdin.readline().strip()
    if line != word:
        raise SystemExit(f"expected {word!r}, got {line!r}")


def main(index: int) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import caches
    from django.db import connection
    from django.test import Client, RequestFactory
    from django.test.utils import override_settings

    from django_sessionguard.responses import ended_cookie_name, read_ended_cookie

    with override_settings(
        SESSION_ENGINE=os.environ["WORKER_ENGINE"],
        SESSIONGUARD_MAX_SESSIONS=int(os.environ["WORKER_MAX_SESSIONS"]),
        SESSIONGUARD_LIMIT_POLICY=os.environ["WORKER_POLICY"],
    ):
        client = Client(
            REMOTE_ADDR=f"10.0.0.{index + 1}",
            HTTP_USER_AGENT=f"Mozilla/5.0 (X11; Linux x86_64) Worker/{index}",
        )
        connection.ensure_connection()
        caches[settings.SESSION_CACHE_ALIAS].get("warm-up")
        _say({"ready": True})

        _wait_for("go")
        response = client.post("/login/", {"username": "alice", "password": "pw"})
        reason = None
        morsel = response.cookies.get(ended_cookie_name())
        if morsel is not None and morsel.value:
            request = RequestFactory().get("/login/")
            request.COOKIES[ended_cookie_name()] = morsel.value
            reason = read_ended_cookie(request)
        _say(
            {
                "status": response.status_code,
                "location": response.get("Location"),
                "reason": reason,
            }
        )

        _wait_for("check")
        user = client.get("/read/").json()["user"]
        _say({"user": user})
    connection.close()


if __name__ == "__main__":
    main(int(sys.argv[1]))
