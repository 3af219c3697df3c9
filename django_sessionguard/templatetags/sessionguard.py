"""``{% load sessionguard %}``: how long ago, in words a person would use."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext

register = template.Library()


@register.filter
def sessionguard_ago(value: datetime | None) -> str:
    """ "just now", "2 minutes ago", "3 days ago" (one unit, like a person says it)."""
    if not value:
        return ""
    if (timezone.now() - value).total_seconds() < 60:
        return gettext("just now")
    return gettext("%(duration)s ago") % {"duration": timesince(value, depth=1)}
