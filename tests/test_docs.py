"""The reference pages in ``docs/`` against the code they describe.

Each test reads the code's own list (settings defaults, command parsers,
signals, check ids, template files) and the page that documents it, and fails
in both directions: a thing the code has and the page lacks, and a thing the
page names that the code does not have.
"""

from __future__ import annotations

import ast
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.dispatch import Signal

import django_sessionguard
from django_sessionguard import signals
from django_sessionguard.conf import DEFAULTS
from tests import docs_reference

DOCS = Path(__file__).resolve().parent.parent / "docs"
PACKAGE = Path(django_sessionguard.__file__).resolve().parent


def page(name: str) -> str:
    return (DOCS / name).read_text()


def sections(text: str, level: str) -> dict[str, str]:
    """``{heading text: body}`` for the headings of one level (``"##"``...)."""
    parts = re.split(rf"^{level} (.+)$", text, flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


# -- settings -----------------------------------------------------------------


def documented_settings(text: str) -> set[str]:
    """Names given a heading or a table row of their own in ``settings.md``."""
    names = set()
    for line in text.splitlines():
        if line.startswith(("#", "|")):
            first = line.split("|")[1] if line.startswith("|") else line
            names.update(re.findall(r"`SESSIONGUARD_([A-Z0-9_]+)`", first))
    return names


def test_every_setting_in_conf_has_its_entry_in_the_settings_reference() -> None:
    missing = set(DEFAULTS) - documented_settings(page("settings.md"))
    assert not missing, (
        "Settings in conf.DEFAULTS without a `SESSIONGUARD_<NAME>` heading in "
        f"docs/settings.md: {sorted(missing)}"
    )


def test_the_settings_reference_names_only_real_settings() -> None:
    named = set(re.findall(r"SESSIONGUARD_([A-Z][A-Z0-9_]*)", page("settings.md")))
    unknown = named - set(DEFAULTS)
    assert not unknown, (
        f"docs/settings.md names settings that conf.DEFAULTS lacks: {sorted(unknown)}"
    )


def test_every_setting_entry_gives_type_default_and_example() -> None:
    entries = sections(page("settings.md"), "##")
    incomplete = []
    for heading, body in entries.items():
        names = re.findall(r"`SESSIONGUARD_([A-Z0-9_]+)`", heading)
        if not names:
            continue
        if not all(f"**{label}**" in body for label in ("Type", "Default", "Example")):
            incomplete.append(heading)
    assert not incomplete, f"Entries without Type / Default / Example: {incomplete}"


def parse_default(text: str) -> Any:
    """A documented default (``60``, ``"log"``, ``[]``, ``timedelta(days=7)``...)."""
    delta = re.fullmatch(r"timedelta\((\w+)=(\d+)\)", text)
    if delta:
        return timedelta(**{delta.group(1): int(delta.group(2))})
    return ast.literal_eval(text)


def same_default(documented: Any, actual: Any) -> bool:
    """Equal, a list and a tuple of the same items counting as the same."""
    if isinstance(documented, list | tuple) and isinstance(actual, list | tuple):
        return tuple(documented) == tuple(actual)
    return type(documented) is type(actual) and documented == actual


def reference_defaults() -> dict[str, str]:
    """``{NAME: the first code span of its Default line}`` in ``settings.md``."""
    found = {}
    for heading, body in sections(page("settings.md"), "##").items():
        names = re.findall(r"`SESSIONGUARD_([A-Z0-9_]+)`", heading)
        default = re.search(r"^- \*\*Default\*\*: `([^`]+)`", body, re.MULTILINE)
        if names and default:
            found.update(dict.fromkeys(names, default.group(1)))
    return found


def readme_defaults() -> dict[str, str]:
    """``{NAME: default}`` from the table in the README's "Settings" section.

    A row may name several settings with one default each (``"log"`` /
    ``"revoke"``), or one default for all of them.
    """
    table = sections((DOCS.parent / "README.md").read_text(), "##")["Settings"]
    found = {}
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("| `SESSIONGUARD_") or len(cells) < 2:
            continue
        names = re.findall(r"`SESSIONGUARD_([A-Z0-9_]+)`", cells[0])
        defaults = re.findall(r"`([^`]+)`", cells[1])
        if len(defaults) == 1:
            defaults *= len(names)
        assert len(defaults) == len(names), f"README: unclear defaults in {line}"
        found.update(zip(names, defaults, strict=True))
    return found


@pytest.mark.parametrize(
    ("where", "documented"),
    [("docs/settings.md", reference_defaults), ("README.md", readme_defaults)],
)
def test_documented_defaults_are_the_defaults_in_conf(
    where: str, documented: Any
) -> None:
    defaults = documented()
    assert len(defaults) >= (len(DEFAULTS) if where == "docs/settings.md" else 5)
    wrong = {
        name: (text, DEFAULTS.get(name))
        for name, text in defaults.items()
        if name not in DEFAULTS or not same_default(parse_default(text), DEFAULTS[name])
    }
    assert not wrong, f"{where}: documented default != conf.DEFAULTS: {wrong}"


# -- management commands -------------------------------------------------------


def test_the_commands_reference_is_generated_from_the_parsers() -> None:
    """``docs/commands.md`` matches argparse (``python -m tests.docs_reference``)."""
    assert docs_reference.documented_block() == docs_reference.render(), (
        "docs/commands.md is out of date: run `DJANGO_SETTINGS_MODULE="
        "tests.settings .venv/bin/python -m tests.docs_reference`"
    )


@pytest.mark.parametrize("command", docs_reference.package_commands())
def test_every_command_and_option_is_in_the_commands_reference(command: str) -> None:
    documented = sections(page("commands.md"), "###")
    assert f"`{command}`" in documented, f"{command} has no section in commands.md"
    body = documented[f"`{command}`"]
    missing = [o for o in docs_reference.option_names(command) if f"`{o}`" not in body]
    assert not missing, f"{command}: options missing from commands.md: {missing}"


def test_the_commands_reference_names_only_real_commands() -> None:
    documented = {
        heading.strip("`") for heading in sections(page("commands.md"), "###")
    }
    assert documented == set(docs_reference.package_commands())


def test_the_reference_has_commands_and_options() -> None:
    """The generator itself finds what is there (so the tests above test something)."""
    commands = docs_reference.package_commands()
    assert {"clearsessions", "sessionguard_import"} <= set(commands)
    assert "--batch-size" in docs_reference.option_names("sessionguard_import")
    assert "--verbosity" not in docs_reference.option_names("sessionguard_import")


# -- signals -------------------------------------------------------------------


def package_signals() -> set[str]:
    return {name for name, value in vars(signals).items() if isinstance(value, Signal)}


def test_every_signal_is_documented_with_its_arguments() -> None:
    documented = sections(page("signals.md"), "##")
    assert package_signals(), "signals.py defines no Signal"
    for name in package_signals():
        assert f"`{name}`" in documented, f"{name} has no section in signals.md"
        body = documented[f"`{name}`"]
        # The arguments, as signals.py's comment above the signal lists them.
        comment = re.search(
            rf"((?:#:.*\n)+){name} = Signal\(\)",
            (PACKAGE / "signals.py").read_text(),
        )
        assert comment, f"signals.py: {name} has no #: comment naming its arguments"
        arguments = re.findall(r"``(\w+)`` \(", comment.group(1))
        assert "sender" in arguments
        missing = [arg for arg in arguments if f"| `{arg}` |" not in body]
        assert not missing, f"{name}: arguments missing from signals.md: {missing}"


def test_the_signals_page_documents_only_real_signals() -> None:
    documented = {
        heading.strip("`")
        for heading in sections(page("signals.md"), "##")
        if heading.startswith("`")
    }
    assert documented == package_signals()


# -- system checks -------------------------------------------------------------

CHECK_ID = r"django_sessionguard\.([EW]\d{3})"


def registered_check_ids() -> set[str]:
    """Every check id the package's code passes (``id=...`` or a helper's argument)."""
    ids = set()
    for path in PACKAGE.rglob("*.py"):
        ids.update(re.findall(rf"[\"']{CHECK_ID}[\"']", path.read_text()))
    return ids


def test_every_check_id_is_in_the_checks_table() -> None:
    rows = "\n".join(
        line for line in page("checks.md").splitlines() if line.startswith("|")
    )
    missing = registered_check_ids() - set(re.findall(rf"`{CHECK_ID}`", rows))
    assert not missing, f"Check ids without a row in docs/checks.md: {sorted(missing)}"


def test_the_checks_page_names_only_registered_ids() -> None:
    ids = registered_check_ids()
    assert {"E001", "W001", "W010"} <= ids  # the scan finds them at all
    unknown = set(re.findall(CHECK_ID, page("checks.md"))) - ids
    assert not unknown, f"docs/checks.md names ids no check uses: {sorted(unknown)}"


# -- templates -----------------------------------------------------------------

TEMPLATES = PACKAGE / "templates"


def template_names() -> list[str]:
    """Every template file, e-mail bodies and subjects (``.txt``) included."""
    return sorted(
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*")
        if path.suffix in (".html", ".txt")
    )


@pytest.mark.parametrize("name", template_names())
def test_every_template_is_documented_with_its_blocks(name: str) -> None:
    documented = sections(page("templates.md"), "###")
    assert f"`{name}`" in documented, f"{name} has no section in templates.md"
    body = documented[f"`{name}`"]
    blocks = re.findall(r"{%\s*block\s+([\w-]+)", (TEMPLATES / name).read_text())
    missing = [block for block in blocks if f"`{block}`" not in body]
    assert not missing, f"{name}: blocks missing from templates.md: {missing}"


def test_the_templates_page_names_only_real_templates() -> None:
    documented = {
        heading.strip("`") for heading in sections(page("templates.md"), "###")
    }
    assert documented == set(template_names())
