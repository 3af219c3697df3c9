"""The user's sessions as the devices page and its JSON API show them.

One query for the whole list (only the displayed columns, never the session
data); IP masking and the optional location (:mod:`~django_sessionguard.locations`)
are applied per row in Python, without further queries. What the site does not record
(``SESSIONGUARD_TRACK_IP`` / ``SESSIONGUARD_TRACK_USER_AGENT`` off) is shown as
"—" and given as ``null`` in JSON, even if a row still holds an older value.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from django_sessionguard import privacy, services
from django_sessionguard.conf import conf
from django_sessionguard.devices import DeviceType
from django_sessionguard.keys import is_reference
from django_sessionguard.locations import locate, location_enabled
from django_sessionguard.models import Session

#: Columns the list needs: never the session data.
ROW_FIELDS = (
    "reference",
    "ip_address",
    "device_type",
    "browser",
    "browser_version",
    "os",
    "os_version",
    "created_at",
    "authenticated_at",
    "last_activity",
)


def mask_ip(ip: str | None) -> str | None:
    """The network around ``ip``: ``203.0.113.0/24`` or ``2001:db8:85a3::/48``."""
    if not ip:
        return None
    prefix = 24 if ipaddress.ip_address(ip).version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


@dataclass(frozen=True)
class SessionRow:
    """One session as the page and the API show it."""

    reference: str
    current: bool
    device_type: str
    browser: str
    browser_version: str
    os: str
    os_version: str
    ip: str | None
    location: str | None
    created_at: datetime
    authenticated_at: datetime | None
    last_activity: datetime
    #: False when the site does not record IP addresses: pages show "—".
    ip_recorded: bool = True
    #: False when the site does not record User-Agents (nor devices parsed from them).
    device_recorded: bool = True

    @classmethod
    def build(
        cls, session: Session, current: str | None, with_location: bool
    ) -> SessionRow:
        ip = privacy.shown_ip(session.ip_address)
        device = conf.TRACK_USER_AGENT
        return cls(
            reference=session.reference,
            current=session.reference == current,
            device_type=session.device_type if device else "",
            browser=session.browser if device else "",
            browser_version=session.browser_version if device else "",
            os=session.os if device else "",
            os_version=session.os_version if device else "",
            ip=mask_ip(ip) if conf.MASK_IP else ip,
            location=locate(ip) if with_location else None,
            created_at=session.created_at,
            authenticated_at=session.authenticated_at,
            last_activity=session.last_activity,
            ip_recorded=conf.TRACK_IP,
            device_recorded=device,
        )

    @property
    def device_type_label(self) -> str:
        if not self.device_recorded:
            return str(privacy.NOT_RECORDED)
        return str(DeviceType(self.device_type).label)

    @property
    def ip_display(self) -> str:
        """The address (or network), "Unknown", or "—" when IPs are not recorded."""
        if not self.ip_recorded:
            return str(privacy.NOT_RECORDED)
        return self.ip or _("Unknown")

    @property
    def location_display(self) -> str:
        if not self.ip_recorded:
            return str(privacy.NOT_RECORDED)
        return self.location or _("Unknown")

    @property
    def label(self) -> str:
        """Short name for buttons: "Firefox on Android"."""
        if self.browser and self.os:
            return _("%(browser)s on %(os)s") % {"browser": self.browser, "os": self.os}
        return self.browser or self.os or _("Unknown device")

    @property
    def browser_display(self) -> str:
        if not self.device_recorded:
            return str(privacy.NOT_RECORDED)
        return " ".join(filter(None, [self.browser, self.browser_version])) or _(
            "Unknown browser"
        )

    @property
    def os_display(self) -> str:
        if not self.device_recorded:
            return str(privacy.NOT_RECORDED)
        return " ".join(filter(None, [self.os, self.os_version])) or _("Unknown system")

    def as_json(self) -> dict[str, Any]:
        device = self.device_recorded
        return {
            "reference": self.reference,
            "current": self.current,
            "device_type": self.device_type if device else None,
            "browser": self.browser if device else None,
            "browser_version": self.browser_version if device else None,
            "os": self.os if device else None,
            "os_version": self.os_version if device else None,
            "ip": self.ip,
            "location": self.location,
            "created_at": self.created_at,
            "authenticated_at": self.authenticated_at,
            "last_activity": self.last_activity,
        }


def current_reference(request: HttpRequest) -> str | None:
    return getattr(request.session, "reference", None)


def session_rows(request: HttpRequest) -> list[SessionRow]:
    """The user's live sessions, this one first, then by latest activity (1 query)."""
    current = current_reference(request)
    with_location = location_enabled()
    rows = [
        SessionRow.build(session, current, with_location)
        for session in services.live_sessions(request.user).only(*ROW_FIELDS)
    ]
    rows.sort(key=lambda row: not row.current)  # stable: keeps activity order
    return rows


def find_row(request: HttpRequest, reference: str) -> SessionRow | None:
    """The user's live session named ``reference``, whoever else may own one.

    The owner is part of the query, so another user's reference, an unknown
    one and a malformed one all take this same path and give ``None``.
    """
    if not is_reference(reference):
        return None
    session = (
        services.live_sessions(request.user)
        .only(*ROW_FIELDS)
        .filter(reference=reference)
        .first()
    )
    if session is None:
        return None
    return SessionRow.build(session, current_reference(request), location_enabled())
