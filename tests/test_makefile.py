"""``make help`` lists every target a developer runs (the ``.PHONY`` ones)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")

MAKEFILE = Path(__file__).resolve().parent.parent / "Makefile"
#: Steps other targets run for you (see the Makefile's comments), not listed.
INTERNAL = {"help", "venv-dj6", "test-leg", "test-mysql-leg", "demo-serve"}


def phony_targets() -> set[str]:
    lines = re.findall(r"^\.PHONY:(.*)$", MAKEFILE.read_text(), flags=re.MULTILINE)
    return {target for line in lines for target in line.split()}


def test_make_help_lists_every_target() -> None:
    output = subprocess.run(  # noqa: S603 (make and our own target)
        [shutil.which("make") or "make", "--no-print-directory", "-s", "help"],
        cwd=MAKEFILE.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    listed = set(re.findall(r"^make ([\w-]+)", output, flags=re.MULTILINE))
    assert {"load", "test-faults", "bench"} <= phony_targets()
    missing = phony_targets() - INTERNAL - listed
    assert not missing, f"make help does not list: {sorted(missing)}"
    unknown = listed - phony_targets()
    assert not unknown, f"make help lists targets the Makefile lacks: {sorted(unknown)}"
