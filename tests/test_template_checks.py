"""Check ``E008``: the base template the pages extend must be loadable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from django_sessionguard.template_checks import check_base_template


def ids(messages: list[Any]) -> list[str]:
    return [message.id for message in messages]


@pytest.fixture
def template_dir(settings: Any, tmp_path: Path) -> Path:
    """A template directory of the project's, searched before the apps'."""
    templates = [dict(engine) for engine in settings.TEMPLATES]
    templates[0] = {**templates[0], "DIRS": [str(tmp_path), *templates[0]["DIRS"]]}
    settings.TEMPLATES = templates
    return tmp_path


def test_the_default_is_not_checked(settings: Any) -> None:
    assert not hasattr(settings, "SESSIONGUARD_BASE_TEMPLATE")
    assert check_base_template() == []


@pytest.mark.parametrize("name", ["django_sessionguard/base.html", "project/base.html"])
def test_a_template_that_loads_passes(
    settings: Any, template_dir: Path, name: str
) -> None:
    (template_dir / "project").mkdir()
    (template_dir / "project" / "base.html").write_text(
        "{% block title %}{% endblock %}{% block content %}{% endblock %}"
    )
    settings.SESSIONGUARD_BASE_TEMPLATE = name
    assert check_base_template() == []


def test_a_missing_template_is_an_error(settings: Any) -> None:
    settings.SESSIONGUARD_BASE_TEMPLATE = "acount/base.html"  # a typo
    messages = check_base_template()
    assert ids(messages) == ["django_sessionguard.E008"]
    assert "'acount/base.html'" in messages[0].msg
    assert messages[0].hint


def test_a_template_that_does_not_compile_is_an_error(
    settings: Any, template_dir: Path
) -> None:
    (template_dir / "broken.html").write_text("{% block content %}never closed")
    settings.SESSIONGUARD_BASE_TEMPLATE = "broken.html"
    messages = check_base_template()
    assert ids(messages) == ["django_sessionguard.E008"]
    assert "does not compile" in messages[0].msg


def test_a_value_that_is_no_name_is_left_to_e007(settings: Any) -> None:
    settings.SESSIONGUARD_BASE_TEMPLATE = ""
    assert check_base_template() == []


@pytest.mark.django_db  # Django 6.1's model checks open the database
def test_manage_py_check_stops_on_it(settings: Any) -> None:
    settings.SESSIONGUARD_BASE_TEMPLATE = "missing/base.html"
    with pytest.raises(SystemCheckError, match=r"django_sessionguard\.E008"):
        call_command("check")
