"""System check ``E008``: the base template the pages extend can be loaded.

``SESSIONGUARD_BASE_TEMPLATE`` is only read when the "Your devices" page (or
a confirmation page) renders: a name that the project's template engines do
not find, or a template that does not compile, would be a 500 there. Checked
when the project sets it; the default, ``django_sessionguard/base.html``,
ships with the app (a project without template engines does not use the
pages and is not told about them).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.template.loader import get_template

from django_sessionguard.conf import conf


@register(Tags.templates)
def check_base_template(**kwargs: Any) -> list[CheckMessage]:
    """A ``SESSIONGUARD_BASE_TEMPLATE`` the project set can be loaded."""
    if not hasattr(settings, "SESSIONGUARD_BASE_TEMPLATE"):
        return []
    try:
        name = conf.BASE_TEMPLATE
    except ValueError:
        return []  # not a template name at all: E007
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return [
            Error(
                f"SESSIONGUARD_BASE_TEMPLATE {name!r} is not found by the "
                "project's template engines: the pages that extend it would "
                "fail to render.",
                hint="Name a template in one of your TEMPLATES directories "
                "(or an installed app's templates), or remove the setting to "
                "use the app's own.",
                id="django_sessionguard.E008",
            )
        ]
    except TemplateSyntaxError as exc:
        return [
            Error(
                f"SESSIONGUARD_BASE_TEMPLATE {name!r} does not compile: {exc}",
                hint="Fix the template: the pages that extend it would fail to render.",
                id="django_sessionguard.E008",
            )
        ]
    return []
