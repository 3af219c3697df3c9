"""What a User-Agent string says about the device, parsed once per distinct string."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.db import models
from django.utils.translation import gettext_lazy as _

#: Characters of the User-Agent header kept on the record (and parsed).
USER_AGENT_MAX_LENGTH = 512
#: Characters kept of a browser or OS family / version.
FIELD_MAX_LENGTH = 64


class DeviceType(models.TextChoices):
    DESKTOP = "desktop", _("Desktop")
    MOBILE = "mobile", _("Mobile")
    TABLET = "tablet", _("Tablet")
    BOT = "bot", _("Bot")
    OTHER = "other", _("Other")


@dataclass(frozen=True, slots=True)
class Device:
    """The parsed summary of one User-Agent string."""

    user_agent: str
    device_type: str
    browser: str
    browser_version: str
    os: str
    os_version: str

    def __str__(self) -> str:
        browser = " ".join(filter(None, [self.browser, self.browser_version]))
        os = " ".join(filter(None, [self.os, self.os_version]))
        return " on ".join(filter(None, [browser, os])) or str(_("Unknown device"))


def clean_user_agent(raw: str | bytes | None) -> str:
    """Bound the header to :data:`USER_AGENT_MAX_LENGTH` printable characters."""
    if raw is None:
        return ""
    if isinstance(raw, bytes):
        raw = raw.decode("latin-1")
    text = raw[:USER_AGENT_MAX_LENGTH]
    if text.isprintable():  # the usual case, checked in C on every request
        return text.strip()
    # Control characters (CR, LF, NUL...) never reach the database or logs.
    return "".join(ch if ch.isprintable() else "\ufffd" for ch in text).strip()


def _short(value: str | None) -> str:
    if not value or value == "Other":
        return ""
    return value[:FIELD_MAX_LENGTH]


@lru_cache(maxsize=1024)
def parse_user_agent(user_agent: str) -> Device:
    """Parse a User-Agent string; cached, so each distinct string is parsed once."""
    user_agent = clean_user_agent(user_agent)
    if not user_agent:
        return Device("", DeviceType.OTHER, "", "", "", "")
    from user_agents import parse

    parsed = parse(user_agent)
    if parsed.is_bot:
        device_type = DeviceType.BOT
    elif parsed.is_tablet:
        device_type = DeviceType.TABLET
    elif parsed.is_mobile:
        device_type = DeviceType.MOBILE
    elif parsed.is_pc:
        device_type = DeviceType.DESKTOP
    else:
        device_type = DeviceType.OTHER
    return Device(
        user_agent=user_agent,
        device_type=device_type.value,
        browser=_short(parsed.browser.family),
        browser_version=_short(parsed.browser.version_string),
        os=_short(parsed.os.family),
        os_version=_short(parsed.os.version_string),
    )
