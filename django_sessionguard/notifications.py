"""The new-device email, sent through Django's email framework.

Queued with ``transaction.on_commit`` when :mod:`django_sessionguard.new_device`
finds a new sign-in and ``SESSIONGUARD_NEW_DEVICE_EMAIL`` is on, so a sign-in
that is rolled back sends nothing. Sending never fails the sign-in: an error is
logged (the user's id and the exception's class, nothing that could carry a
key or the link) and the sign-in goes on.

The templates are overridable (``django_sessionguard/email/new_device_subject.txt``,
``new_device_body.txt`` and ``new_device_body.html``); the context is built by
:func:`email_context`.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.core.mail import EmailMultiAlternatives
from django.db import router, transaction
from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from django_sessionguard import privacy
from django_sessionguard.conf import conf
from django_sessionguard.devices import Device, DeviceType
from django_sessionguard.locations import locate
from django_sessionguard.models import SessionEvent
from django_sessionguard.new_device_links import make_token
from django_sessionguard.session_rows import mask_ip

logger = logging.getLogger("django_sessionguard")

SUBJECT_TEMPLATE = "django_sessionguard/email/new_device_subject.txt"
TEXT_TEMPLATE = "django_sessionguard/email/new_device_body.txt"
HTML_TEMPLATE = "django_sessionguard/email/new_device_body.html"


def email_address(user: Any) -> str:
    """The user's email address (``EMAIL_FIELD``), or ``""`` when there is none."""
    get_field = getattr(user, "get_email_field_name", None)
    field = get_field() if callable(get_field) else "email"
    return str(getattr(user, field, "") or "").strip()


def approximate_place(ip: str | None) -> str | None:
    """The locator's place (see :mod:`~django_sessionguard.locations`), else the
    masked network ("203.0.113.0/24"), or None when IPs are not tracked."""
    ip = privacy.shown_ip(ip)
    if not ip:
        return None
    return locate(ip) or mask_ip(ip)


def absolute_url(request: HttpRequest, path: str) -> str:
    """``path`` on this site, as Django's password reset email builds its links.

    The domain is the ``django.contrib.sites`` Site when that app is
    installed, else the request's host (checked against ``ALLOWED_HOSTS``).
    """
    domain = get_current_site(request).domain
    protocol = "https" if request.is_secure() else "http"
    return f"{protocol}://{domain}{path}"


def password_reset_path() -> str | None:
    """The site's password reset page (``SESSIONGUARD_PASSWORD_RESET_URL``), if any."""
    target = conf.PASSWORD_RESET_URL
    if target is None:
        return None
    try:
        return resolve_url(target)
    except NoReverseMatch:
        return None


def email_context(
    request: HttpRequest,
    user: Any,
    event: SessionEvent,
    *,
    device: Device | None,
    ip_address: str | None,
) -> dict[str, Any]:
    """What the email templates are rendered with.

    ``device`` is None when User-Agents are not tracked, ``ip_address`` None
    when addresses are not: the email then says nothing about them.
    """
    site = get_current_site(request)
    token = make_token(user, event.session_ref)
    reset_path = password_reset_path()
    max_age = timedelta(seconds=conf.NEW_DEVICE_LINK_MAX_AGE)
    return {
        "user": user,
        "site_name": site.name,
        "domain": site.domain,
        "device": str(device) if device is not None else None,
        "device_type": (
            DeviceType(device.device_type).label if device is not None else None
        ),
        "browser": (
            " ".join(filter(None, [device.browser, device.browser_version]))
            if device is not None
            else None
        ),
        "os": (
            " ".join(filter(None, [device.os, device.os_version]))
            if device is not None
            else None
        ),
        "time": event.timestamp,
        "timezone_name": timezone.get_current_timezone_name(),
        "place": approximate_place(ip_address),
        "link": absolute_url(
            request, reverse("sessionguard:not-me", kwargs={"token": token})
        ),
        "link_expires": event.timestamp + max_age,
        "link_max_age_days": max(1, round(max_age / timedelta(days=1))),
        "password_reset_url": (
            absolute_url(request, reset_path) if reset_path is not None else None
        ),
    }


def build_email(address: str, context: dict[str, Any]) -> EmailMultiAlternatives:
    """The message: subject and text body, with the HTML body as an alternative."""
    subject = "".join(render_to_string(SUBJECT_TEMPLATE, context).splitlines())
    message = EmailMultiAlternatives(
        subject=subject.strip(),
        body=render_to_string(TEXT_TEMPLATE, context),
        from_email=conf.NEW_DEVICE_FROM_EMAIL or settings.DEFAULT_FROM_EMAIL,
        to=[address],
    )
    message.attach_alternative(render_to_string(HTML_TEMPLATE, context), "text/html")
    return message


def send_new_device_email(
    request: HttpRequest,
    user: Any,
    event: SessionEvent,
    *,
    device: Device | None,
    ip_address: str | None,
) -> bool:
    """Send the email now. False (and nothing sent) for a user without an address."""
    address = email_address(user)
    if not address:
        return False
    context = email_context(request, user, event, device=device, ip_address=ip_address)
    build_email(address, context).send()
    return True


def queue_new_device_email(
    request: HttpRequest,
    user: Any,
    event: SessionEvent,
    *,
    device: Device | None,
    ip_address: str | None,
) -> None:
    """Send the email once the sign-in's transaction commits; never raise.

    Rendered in the language and time zone active at sign-in.
    """
    if not email_address(user):
        return
    language = translation.get_language()
    zone = timezone.get_current_timezone()

    def deliver() -> None:
        try:
            with translation.override(language), timezone.override(zone):
                send_new_device_email(
                    request, user, event, device=device, ip_address=ip_address
                )
        except Exception as exc:
            # Not logger.exception: a traceback's locals and messages could
            # carry the link; the class name is enough to start looking.
            logger.error(
                "sessionguard: the new-device email to user %s could not be sent (%s).",
                user.pk,
                type(exc).__name__,
            )

    transaction.on_commit(deliver, using=router.db_for_write(SessionEvent))
