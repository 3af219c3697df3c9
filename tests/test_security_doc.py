"""``docs/security.md`` points only at tests that exist.

Every pytest node id written in the security model (``tests/test_x.py::test_y``,
parametrised ids allowed) must be a test pytest collects, and every row of the
ASVS and cheat-sheet tables must name at least one, unless it says "not
applicable" and why. Collection runs in a separate pytest process, exactly as
``pytest --collect-only`` would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "security.md"
NODE_ID = re.compile(r"`(tests/[\w/]+\.py::[\w]+(?:\[[^\]`]+\])?)`")
TABLES = ("## OWASP ASVS", "## OWASP Session Management Cheat Sheet")


def section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else len(text)]


def table_rows(block: str) -> list[list[str]]:
    """The body rows of the first Markdown table in ``block``, as cells."""
    rows = []
    for line in block.splitlines():
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if set("".join(cells)) <= set("-: "):
            continue  # the separator row
        rows.append(cells)
    return rows[1:]  # without the header


@cache
def collected() -> frozenset[str]:
    """Node ids pytest collects from every file the document names."""
    files = sorted({node.split("::")[0] for node in NODE_ID.findall(DOC.read_text())})
    result = subprocess.run(  # noqa: S603 (this interpreter, the doc's own paths)
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            *files,
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return frozenset(
        line.strip() for line in result.stdout.splitlines() if "::" in line
    )


def is_collected(node: str, ids: frozenset[str]) -> bool:
    if "[" in node:
        return node in ids
    return node in ids or any(other.startswith(f"{node}[") for other in ids)


def test_the_document_has_both_tables() -> None:
    text = DOC.read_text()
    asvs = table_rows(section(text, TABLES[0]))
    sheet = table_rows(section(text, TABLES[1]))
    requirements = {row[0].split()[0] for row in asvs}
    expected = {
        "V3.1.1",
        *(f"V3.2.{n}" for n in range(1, 5)),
        *(f"V3.3.{n}" for n in range(1, 5)),
        *(f"V3.4.{n}" for n in range(1, 6)),
        *(f"V3.5.{n}" for n in range(1, 4)),
        "V3.7.1",
    }
    assert expected <= requirements
    assert len(sheet) >= 25


@pytest.mark.parametrize("heading", TABLES)
def test_every_row_names_a_test_or_says_why_not(heading: str) -> None:
    for row in table_rows(section(DOC.read_text(), heading)):
        line = " | ".join(row)
        if "not applicable" in line.lower():
            assert len(line) > 60, f"say why it does not apply: {line}"
            continue
        assert NODE_ID.search(row[-1]), f"no test named in: {line}"


def test_every_named_test_is_collected() -> None:
    named = sorted(set(NODE_ID.findall(DOC.read_text())))
    assert len(named) > 50
    ids = collected()
    missing = [node for node in named if not is_collected(node, ids)]
    assert missing == []


def test_the_check_itself_catches_a_missing_test() -> None:
    ids = collected()
    parametrised = (
        "tests/test_security_flooding.py"
        "::test_bot_requests_store_no_row_and_no_cache_entry"
    )
    assert is_collected(parametrised, ids)
    assert any(node.startswith(f"{parametrised}[") for node in ids)
    assert not is_collected(f"{parametrised}[no-such-case]", ids)
    assert not is_collected("tests/test_security_flooding.py::test_no_such_test", ids)
