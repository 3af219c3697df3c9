"""Small HTML fragments shared by the admin pages (escaped with ``format_html``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from django_sessionguard.conf import conf
from django_sessionguard.devices import DeviceType
from django_sessionguard.events import EndReason, EventKind
from django_sessionguard.privacy import NOT_RECORDED
from django_sessionguard.templatetags.sessionguard import sessionguard_ago


def time_html(value: datetime | None) -> str | None:
    """ "5 minutes ago", with the exact time as a tooltip and machine-readable."""
    if value is None:
        return None
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        formats.date_format(timezone.localtime(value), "DATETIME_FORMAT"),
        sessionguard_ago(value),
    )


def device_html(obj: Any) -> str:
    """A device-type badge and "Chrome 120 on Windows 10" ("—" when not recorded)."""
    if not conf.TRACK_USER_AGENT:
        return str(NOT_RECORDED)
    device_type = obj.device_type or DeviceType.OTHER
    try:
        label = DeviceType(device_type).label
    except ValueError:
        label = DeviceType.OTHER.label
    return format_html(
        '<span class="sg-badge sg-badge--{}">{}</span> {}',
        device_type,
        label,
        str(obj.device),
    )


def status_html(active: bool, why: str = "") -> str:
    """ "Active" or "Expired"; ``why`` (what ended it) becomes the tooltip."""
    if active:
        return format_html(
            '<span class="sg-status sg-status--active">{}</span>', _("Active")
        )
    if why:
        return format_html(
            '<span class="sg-status sg-status--expired" title="{}">{}</span>',
            why,
            _("Expired"),
        )
    return format_html(
        '<span class="sg-status sg-status--expired">{}</span>', _("Expired")
    )


def ending_label(ending: str) -> str:
    """What a ``sessionguard_ending`` value means, for a person ("" for none)."""
    if ending == EventKind.REVOKED_BY_SYSTEM:
        return str(EndReason.NOT_VALID_BEFORE.label)  # the only system deadline
    if ending in EventKind.values:
        return str(EventKind(ending).label)
    return ""


def user_admin_url(site: admin.AdminSite, user_id: Any) -> str | None:
    """The user's change page in ``site``, if the user model is registered there."""
    opts = get_user_model()._meta
    if not site.is_registered(get_user_model()):
        return None
    try:
        return reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change",
            args=(quote(user_id),),
            current_app=site.name,
        )
    except NoReverseMatch:
        return None
