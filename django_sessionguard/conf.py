"""Every ``SESSIONGUARD_*`` setting, read lazily with its typed default.

Values are read on each access so ``override_settings`` works; parsing of the
few non-trivial values is cached on the raw value. Invalid values raise
``ValueError`` here and are reported at start-up by :mod:`checks`.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings as django_settings

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULTS: dict[str, Any] = {
    "ACTIVITY_INTERVAL": 60,
    "TRUSTED_PROXIES": (),
}


def seconds(value: Any, name: str, *, allow_none: bool = False) -> int | None:
    """Normalise an int/float number of seconds or a ``timedelta`` to int seconds."""
    if value is None and allow_none:
        return None
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(
            f"{name} must be a number of seconds or a timedelta, not {value!r}."
        )
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value!r}.")
    return int(value)


@lru_cache(maxsize=8)
def _parse_networks(raw: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    networks = []
    for item in raw:
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(
                f"SESSIONGUARD_TRUSTED_PROXIES entry {item!r} is not an IP "
                f"address or CIDR network ({exc})."
            ) from None
    return tuple(networks)


class SessionGuardSettings:
    """Typed accessors for the ``SESSIONGUARD_*`` settings."""

    def _get(self, name: str) -> Any:
        return getattr(django_settings, f"SESSIONGUARD_{name}", DEFAULTS[name])

    @property
    def ACTIVITY_INTERVAL(self) -> int:
        """Seconds between two writes of a session's last-activity time."""
        value = seconds(self._get("ACTIVITY_INTERVAL"), "SESSIONGUARD_ACTIVITY_INTERVAL")
        assert value is not None
        return value

    @property
    def TRUSTED_PROXIES(self) -> tuple[IPNetwork, ...]:
        """Networks whose forwarding headers are believed."""
        raw = self._get("TRUSTED_PROXIES")
        if isinstance(raw, str) or not isinstance(raw, list | tuple):
            raise ValueError(
                "SESSIONGUARD_TRUSTED_PROXIES must be a list of IP addresses or "
                f"CIDR networks, not {raw!r}."
            )
        if not all(isinstance(item, str) for item in raw):
            raise ValueError("SESSIONGUARD_TRUSTED_PROXIES entries must be strings.")
        return _parse_networks(tuple(raw))


conf = SessionGuardSettings()
