"""Approximate places ("Lisbon, Portugal") for the IP addresses the app keeps.

Shown by the devices page and its JSON API, the admin (sessions list and
page, the user page's sessions) and the new-device email and "This wasn't me"
page, when a locator is configured:

* ``SESSIONGUARD_LOCATE``: the dotted path of a callable
  ``(ip: str) -> str | None`` returning a place name, or ``None`` when it
  does not know;
* otherwise ``SESSIONGUARD_GEOIP = True``: :func:`geoip_place`, Django's
  ``GeoIP2``, once it is installed and ``GEOIP_PATH`` points at a database.
  (``SESSIONGUARD_LOCATE = "django_sessionguard.locations.geoip_place"`` is
  the same locator, shown even before a database is found.)

Privacy: with ``SESSIONGUARD_TRACK_IP`` off no locator is ever called. It is
given the address as stored, so with ``SESSIONGUARD_ANONYMIZE_IP`` only the
network address (``203.0.113.0``). A locator that asks a remote service sends
it these addresses (see ``docs/privacy.md``).

A locator that raises, or returns anything but a non-empty string, gives no
place; the failure is logged (the locator and the exception's class, not the
address) and the page or email goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django.utils.module_loading import import_string

from django_sessionguard.conf import conf

logger = logging.getLogger("django_sessionguard")

#: ``(ip) -> place name | None``.
Locator = Callable[[str], Any]


@lru_cache(maxsize=1)
def _geoip() -> Any:
    """Django's ``GeoIP2``, when installed and ``GEOIP_PATH`` points at a database."""
    try:
        from django.contrib.gis.geoip2 import GeoIP2

        return GeoIP2()
    except Exception:  # not installed, not configured, or an unreadable database
        return None


def geoip_place(ip: str) -> str | None:
    """ "City, Country" from Django's ``GeoIP2`` (City or Country database), or None.

    None for an address the database does not know (private networks...)
    and when no database can be opened.
    """
    geoip = _geoip()
    if geoip is None:
        return None
    try:
        place = geoip.city(ip)
    except Exception:
        try:
            place = geoip.country(ip)
        except Exception:
            return None
    return (
        ", ".join(filter(None, [place.get("city"), place.get("country_name")])) or None
    )


@lru_cache(maxsize=8)
def _imported(path: str) -> Locator:
    locator: Locator = import_string(path)
    return locator


def locator() -> Locator | None:
    """The configured locator: ``SESSIONGUARD_LOCATE``, else GeoIP2, else None."""
    path = conf.LOCATE
    if path is not None:
        return _imported(path)
    if conf.GEOIP and _geoip() is not None:
        return geoip_place
    return None


def location_enabled() -> bool:
    """Whether pages show a location (a locator is configured and usable)."""
    return locator() is not None


def locate(ip: str | None) -> str | None:
    """The place of a stored address, or None.

    None without a locator, an address or IP tracking, for an address the
    locator does not know, and when the locator fails (logged).
    """
    if not ip or not conf.TRACK_IP:
        return None
    find = locator()
    if find is None:
        return None
    try:
        place = find(ip)
    except Exception as exc:
        # Not the message: it may quote the address.
        logger.warning(
            "sessionguard: the locator %s failed (%s); no place is shown.",
            _name(find),
            type(exc).__name__,
        )
        return None
    if place is None:
        return None
    if not isinstance(place, str):
        logger.warning(
            "sessionguard: the locator %s returned a %s, not a place name; "
            "no place is shown.",
            _name(find),
            type(place).__name__,
        )
        return None
    return place.strip() or None


def _name(find: Locator) -> str:
    return conf.LOCATE or f"{find.__module__}.{getattr(find, '__qualname__', find)}"
