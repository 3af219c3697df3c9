"""``{% load sessionguard_admin %}``: template helpers of the admin pages."""

from __future__ import annotations

from typing import Any

from django import template

from django_sessionguard.admin.hierarchy import with_cheap_periods

register = template.Library()


@register.simple_tag
def sessionguard_hierarchy(changelist: Any) -> Any:
    """The changelist for ``{% date_hierarchy %}``, listing periods cheaply."""
    return with_cheap_periods(changelist)
