"""The load/fuzz run in small (``python -m tests.load --quick``), on the server legs.

500 requests against the example project under gunicorn, exactly as
``make load`` runs 10,000: the run's own exit status and summary must report
no server error, no request signed in without a live session and no
cross-user effect. It needs PostgreSQL and Redis (the run's own database is
created next to the suite's and dropped afterwards).
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from django.conf import settings as django_settings

from tests.load.server import ROOT

pytestmark = [pytest.mark.services("postgres", "redis"), pytest.mark.slow]


def test_quick_load_run_finds_no_violation() -> None:
    database: dict[str, Any] = django_settings.DATABASES["default"]
    run_id = os.environ.get("SESSIONGUARD_TEST_RUN_ID", str(os.getpid()))
    env = {
        **os.environ,
        "SESSIONGUARD_LOAD_DB_HOST": str(database["HOST"]),
        "SESSIONGUARD_LOAD_DB_PORT": str(database["PORT"]),
        "SESSIONGUARD_LOAD_DB_USER": str(database["USER"]),
        "SESSIONGUARD_LOAD_DB_PASSWORD": str(database["PASSWORD"] or ""),
        "SESSIONGUARD_LOAD_REDIS_URL": str(django_settings.TEST_REDIS_URL),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)

    finished = subprocess.run(  # noqa: S603 (our own interpreter and module)
        [
            sys.executable,
            "-m",
            "tests.load",
            "--quick",
            "--threads",
            "8",
            "--database",
            f"sessionguard_load_{run_id}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    report = finished.stdout + finished.stderr
    assert finished.returncode == 0, report
    assert "server errors (5xx): 0" in report
    assert "responses authenticated without a valid session: 0" in report
    assert "cross-user effects: 0" in report
    assert "other violations: 0" in report
    assert "Load/fuzz run: 5" in report  # 500 requests or a few more
