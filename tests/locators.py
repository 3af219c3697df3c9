"""Locators for ``SESSIONGUARD_LOCATE`` in the tests (``tests.locators.<name>``).

:func:`fixed_places` records the addresses it was asked about in :data:`ASKED`
(cleared by the ``asked`` fixture of the tests that read it).
"""

from __future__ import annotations

from typing import Any

PLACES = {
    "203.0.113.5": "Lisbon, Portugal",
    "203.0.113.7": "Porto, Portugal",
    "203.0.113.0": "Portugal",  # the network ANONYMIZE_IP keeps
    "2001:db8::7": "Osaka, Japan",
}
#: Every address :func:`fixed_places` was called with, in order.
ASKED: list[str] = []


def fixed_places(ip: str) -> str | None:
    """A fixed answer per address, None for the rest."""
    ASKED.append(ip)
    return PLACES.get(ip)


def failing(ip: str) -> str | None:
    """A remote service that is down (the message quotes the address)."""
    raise ConnectionError(f"lookup of {ip} timed out")


def not_a_name(ip: str) -> Any:
    """Returns a structure, not a place name."""
    return {"city": "Lisbon", "country": "Portugal"}


def blank(ip: str) -> str:
    return "   "


#: Importable, but not callable.
NOT_CALLABLE = "Lisbon, Portugal"
