"""Every ``SESSIONGUARD_*`` setting, read lazily with its typed default.

Each value is read and validated on first access, then kept until a
``SESSIONGUARD_*`` setting changes (Django's ``setting_changed`` signal, which
``override_settings`` and pytest-django's ``settings`` fixture send), so the
request path does not re-validate settings on every request. Invalid values
raise ``ValueError`` here (and again on each access: errors are not kept) and
are reported at start-up by :mod:`checks`.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cached_property, lru_cache
from typing import Any

from django.conf import settings as django_settings
from django.core.signals import setting_changed
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.module_loading import import_string

logger = logging.getLogger("django_sessionguard")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULTS: dict[str, Any] = {
    "ACTIVITY_INTERVAL": 60,
    "TRUSTED_PROXIES": (),
    "PROFILE": None,
    "IDLE_TIMEOUT": None,
    "ABSOLUTE_TIMEOUT": None,
    "MAX_SESSIONS": None,
    "LIMIT_POLICY": "evict_oldest",
    "IP_CHANGE": "log",
    "UA_CHANGE": "revoke",
    "PASSIVE_PATHS": (),
    "EVENT_RETENTION": timedelta(days=365),
    "NOT_VALID_BEFORE": None,
    "BASE_TEMPLATE": "django_sessionguard/base.html",
    "REAUTH_MAX_AGE": 300,
    "REAUTH_FOR_REVOKE": False,
    "MASK_IP": False,
    "TRACK_IP": True,
    "TRACK_USER_AGENT": True,
    "ANONYMIZE_IP": False,
    "ERASE_ON_USER_DELETE": False,
    "GEOIP": False,
    "LOCATE": None,
    "IDLE_WARNING_BEFORE": 60,
    "CLEAR_SITE_DATA": False,
    "GUESSING_THRESHOLD": 20,
    "GUESSING_WINDOW": 300,
    "GUESSING_BLOCK": False,
    "NEW_DEVICE_DETECTION": False,
    "NEW_DEVICE_EMAIL": False,
    "NEW_DEVICE_LOOKBACK": timedelta(days=90),
    "NEW_DEVICE_LINK_MAX_AGE": timedelta(days=7),
    "NEW_DEVICE_FROM_EMAIL": None,
    "PASSWORD_RESET_URL": "password_reset",
}

#: NIST SP 800-63B rev 4 reauthentication limits: (absolute, idle) in seconds.
PROFILES: dict[str, tuple[int, int | None]] = {
    "AAL1": (30 * 24 * 3600, None),
    "AAL2": (24 * 3600, 3600),
    "AAL3": (12 * 3600, 15 * 60),
}
LIMIT_POLICIES = ("evict_oldest", "deny_new")
#: ``Clear-Site-Data`` directives (W3C Clear Site Data), and what ``True`` means.
CLEAR_SITE_DATA_DIRECTIVES = (
    "cache",
    "cookies",
    "storage",
    "executionContexts",
    "clientHints",
    "prefetchCache",
    "prerenderCache",
    "*",
)
CLEAR_SITE_DATA_DEFAULT = ("cache", "cookies", "storage")
CHANGE_ACTIONS = ("ignore", "log", "revoke")


def seconds(
    value: Any, name: str, *, allow_none: bool = False, positive: bool = False
) -> int | None:
    """Normalise an int/float number of seconds or a ``timedelta`` to int seconds."""
    if value is None and allow_none:
        return None
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(
            f"{name} must be a number of seconds or a timedelta, not {value!r}."
        )
    if positive and value < 1:
        raise ValueError(f"{name} must be at least one second, got {value!r}.")
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

    def reset(self) -> None:
        """Forget every kept value (done when a ``SESSIONGUARD_*`` setting changes)."""
        # The values live in the instance dict, where cached_property keeps them.
        self.__dict__.clear()

    def _get(self, name: str) -> Any:
        return getattr(django_settings, f"SESSIONGUARD_{name}", DEFAULTS[name])

    def is_set(self, name: str) -> bool:
        """Whether the project sets ``SESSIONGUARD_<name>`` itself (even to None)."""
        return hasattr(django_settings, f"SESSIONGUARD_{name}")

    @cached_property
    def ACTIVITY_INTERVAL(self) -> int:
        """Seconds between two writes of a session's last-activity time."""
        value = seconds(
            self._get("ACTIVITY_INTERVAL"), "SESSIONGUARD_ACTIVITY_INTERVAL"
        )
        return value or 0

    @cached_property
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

    @cached_property
    def PROFILE(self) -> str | None:
        """A NIST SP 800-63B assurance level preset: "AAL1", "AAL2", "AAL3"."""
        value = self._get("PROFILE")
        if value is not None and value not in PROFILES:
            raise ValueError(
                f"SESSIONGUARD_PROFILE must be one of {', '.join(PROFILES)} or None, "
                f"not {value!r}."
            )
        return value  # type: ignore[no-any-return]

    def profile_timeout(self, name: str) -> int | None:
        """The chosen PROFILE's value for ``IDLE_TIMEOUT`` / ``ABSOLUTE_TIMEOUT``."""
        profile = self.PROFILE
        if profile is None or name not in ("IDLE_TIMEOUT", "ABSOLUTE_TIMEOUT"):
            return None
        absolute, idle = PROFILES[profile]
        return idle if name == "IDLE_TIMEOUT" else absolute

    def _timeout(self, name: str) -> int | str | None:
        # A value the project sets (None included: "disabled") wins over the
        # profile; the profile only fills in what is left unset.
        if not self.is_set(name):
            return self.profile_timeout(name)
        raw = self._get(name)
        if isinstance(raw, str):
            return _callable_path(raw, f"SESSIONGUARD_{name}")
        return seconds(raw, f"SESSIONGUARD_{name}", allow_none=True, positive=True)

    @cached_property
    def IDLE_TIMEOUT(self) -> int | str | None:
        """Seconds without activity after which a signed-in session ends.

        An int or ``timedelta``, ``None`` (no idle timeout), or the dotted path
        of a callable ``(user) -> seconds|timedelta|None``. Unset: the
        PROFILE's value.
        """
        return self._timeout("IDLE_TIMEOUT")

    @cached_property
    def ABSOLUTE_TIMEOUT(self) -> int | str | None:
        """Seconds after authentication after which a session ends, whatever happens.

        Same forms as :attr:`IDLE_TIMEOUT`.
        """
        return self._timeout("ABSOLUTE_TIMEOUT")

    @cached_property
    def MAX_SESSIONS(self) -> int | str | None:
        """Sessions a user may have at once (int, or a callable path)."""
        raw = self._get("MAX_SESSIONS")
        if raw is None:
            return None
        if isinstance(raw, str):
            return _callable_path(raw, "SESSIONGUARD_MAX_SESSIONS")
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
            raise ValueError(
                "SESSIONGUARD_MAX_SESSIONS must be a positive int, None, or the "
                f"dotted path of a callable, not {raw!r}."
            )
        return raw

    @cached_property
    def LIMIT_POLICY(self) -> str:
        """What a sign-in over the limit does: "evict_oldest" or "deny_new"."""
        return _choice(self._get("LIMIT_POLICY"), LIMIT_POLICIES, "LIMIT_POLICY")

    @cached_property
    def IP_CHANGE(self) -> str:
        """What an IP change inside a session does: "ignore", "log" or "revoke"."""
        return _choice(self._get("IP_CHANGE"), CHANGE_ACTIONS, "IP_CHANGE")

    @cached_property
    def UA_CHANGE(self) -> str:
        """What a browser/OS/device change inside a session does."""
        return _choice(self._get("UA_CHANGE"), CHANGE_ACTIONS, "UA_CHANGE")

    @cached_property
    def PASSIVE_PATHS(self) -> tuple[str, ...]:
        """Path prefixes whose requests do not count as activity."""
        raw = self._get("PASSIVE_PATHS")
        if isinstance(raw, str) or not isinstance(raw, list | tuple):
            raise ValueError(
                "SESSIONGUARD_PASSIVE_PATHS must be a list of path prefixes, "
                f"not {raw!r}."
            )
        if not all(isinstance(item, str) and item.startswith("/") for item in raw):
            raise ValueError("SESSIONGUARD_PASSIVE_PATHS entries must start with '/'.")
        return tuple(raw)

    @cached_property
    def EVENT_RETENTION(self) -> int | None:
        """Seconds ``sessionguard_purge_events`` keeps audit events (None: forever)."""
        return seconds(
            self._get("EVENT_RETENTION"),
            "SESSIONGUARD_EVENT_RETENTION",
            allow_none=True,
            positive=True,
        )

    @cached_property
    def NOT_VALID_BEFORE(self) -> float | None:
        """Signed-in sessions authenticated before this instant end (epoch seconds).

        Set as an aware ``datetime`` or an ISO 8601 string with a UTC offset.
        Checking it costs nothing per request: it is compared with the
        authentication time that comes with the session.
        """
        return _instant(self._get("NOT_VALID_BEFORE"), "SESSIONGUARD_NOT_VALID_BEFORE")

    @cached_property
    def IDLE_WARNING_BEFORE(self) -> int:
        """Seconds before the idle deadline that the sign-out warning shows."""
        return (
            seconds(
                self._get("IDLE_WARNING_BEFORE"), "SESSIONGUARD_IDLE_WARNING_BEFORE"
            )
            or 0
        )

    @cached_property
    def BASE_TEMPLATE(self) -> str:
        """The template the devices and re-authentication pages extend."""
        value = self._get("BASE_TEMPLATE")
        if not isinstance(value, str) or not value:
            raise ValueError(
                f"SESSIONGUARD_BASE_TEMPLATE must be a template name, not {value!r}."
            )
        return value

    @cached_property
    def REAUTH_MAX_AGE(self) -> int:
        """Default age (seconds) after which ``recent_login_required`` asks again."""
        value = self._get("REAUTH_MAX_AGE")
        return seconds(value, "SESSIONGUARD_REAUTH_MAX_AGE") or 0

    @cached_property
    def REAUTH_FOR_REVOKE(self) -> bool:
        """Whether signing out other devices needs a recent password entry."""
        return _flag(self._get("REAUTH_FOR_REVOKE"), "REAUTH_FOR_REVOKE")

    @cached_property
    def MASK_IP(self) -> bool:
        """Whether the devices page shows IP networks (/24, /48), not addresses."""
        return _flag(self._get("MASK_IP"), "MASK_IP")

    @cached_property
    def TRACK_IP(self) -> bool:
        """Whether client IP addresses are stored (False: nowhere, pages show "—")."""
        return _flag(self._get("TRACK_IP"), "TRACK_IP")

    @cached_property
    def TRACK_USER_AGENT(self) -> bool:
        """Whether User-Agents (and the device/browser/OS parsed from them) are kept."""
        return _flag(self._get("TRACK_USER_AGENT"), "TRACK_USER_AGENT")

    @cached_property
    def ANONYMIZE_IP(self) -> bool:
        """Whether only the network of an IP is stored (IPv4 /24, IPv6 /48)."""
        return _flag(self._get("ANONYMIZE_IP"), "ANONYMIZE_IP")

    @cached_property
    def ERASE_ON_USER_DELETE(self) -> bool:
        """Whether deleting a user also deletes their session history (events)."""
        return _flag(self._get("ERASE_ON_USER_DELETE"), "ERASE_ON_USER_DELETE")

    @cached_property
    def client_filter(
        self,
    ) -> Callable[[str | None, str], tuple[str | None, str]] | None:
        """What is kept of a client's ``(ip, user_agent)``; None: all of it.

        Chosen once from ``TRACK_IP``, ``TRACK_USER_AGENT`` and ``ANONYMIZE_IP``
        (see :mod:`django_sessionguard.privacy`), so binding a request at the
        defaults costs one attribute read.
        """
        from django_sessionguard.privacy import client_filter

        return client_filter(self.TRACK_IP, self.TRACK_USER_AGENT, self.ANONYMIZE_IP)

    @cached_property
    def GEOIP(self) -> bool:
        """Whether pages look up locations with Django's ``GeoIP2``."""
        return _flag(self._get("GEOIP"), "GEOIP")

    @cached_property
    def LOCATE(self) -> str | None:
        """Dotted path of a callable ``(ip: str) -> str | None`` naming a place.

        ``None``: locations come from ``GEOIP``, or are not shown. See
        :mod:`django_sessionguard.locations`.
        """
        raw = self._get("LOCATE")
        if raw is None:
            return None
        if not isinstance(raw, str) or not raw:
            raise ValueError(
                "SESSIONGUARD_LOCATE must be the dotted path of a callable "
                f"(ip) -> place name or None, or None; not {raw!r}."
            )
        return _callable_path(raw, "SESSIONGUARD_LOCATE")

    @cached_property
    def CLEAR_SITE_DATA(self) -> tuple[str, ...]:
        """``Clear-Site-Data`` directives sent when this device signs out (empty: off).

        ``False`` (default), ``True`` (``"cache", "cookies", "storage"``), or a
        list/tuple of directives.
        """
        raw = self._get("CLEAR_SITE_DATA")
        if raw is False:
            return ()
        if raw is True:
            return CLEAR_SITE_DATA_DEFAULT
        if (
            isinstance(raw, str)
            or not isinstance(raw, list | tuple)
            or not raw
            or not all(item in CLEAR_SITE_DATA_DIRECTIVES for item in raw)
        ):
            raise ValueError(
                "SESSIONGUARD_CLEAR_SITE_DATA must be True, False or a non-empty "
                f"list of directives from {', '.join(CLEAR_SITE_DATA_DIRECTIVES)}; "
                f"got {raw!r}."
            )
        return tuple(dict.fromkeys(raw))

    @cached_property
    def GUESSING_THRESHOLD(self) -> int | None:
        """Unknown session keys one client may send per window (None: no detection)."""
        raw = self._get("GUESSING_THRESHOLD")
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
            raise ValueError(
                "SESSIONGUARD_GUESSING_THRESHOLD must be a positive int or None, "
                f"not {raw!r}."
            )
        return raw

    @cached_property
    def GUESSING_WINDOW(self) -> int:
        """Seconds over which unknown session keys are counted per client."""
        value = seconds(
            self._get("GUESSING_WINDOW"), "SESSIONGUARD_GUESSING_WINDOW", positive=True
        )
        return value or 1

    @cached_property
    def GUESSING_BLOCK(self) -> bool:
        """Whether a client over the threshold gets 429 for the rest of the window."""
        return _flag(self._get("GUESSING_BLOCK"), "GUESSING_BLOCK")

    @cached_property
    def NEW_DEVICE_DETECTION(self) -> bool:
        """Whether sign-ins are checked for a new device (event and signal)."""
        return _flag(self._get("NEW_DEVICE_DETECTION"), "NEW_DEVICE_DETECTION")

    @cached_property
    def NEW_DEVICE_EMAIL(self) -> bool:
        """Whether a new-device sign-in is emailed to the user (implies detection)."""
        return _flag(self._get("NEW_DEVICE_EMAIL"), "NEW_DEVICE_EMAIL")

    @cached_property
    def new_device_detection(self) -> bool:
        """Whether sign-ins are checked: ``NEW_DEVICE_DETECTION`` or ``_EMAIL``."""
        return self.NEW_DEVICE_DETECTION or self.NEW_DEVICE_EMAIL

    @cached_property
    def NEW_DEVICE_LOOKBACK(self) -> int:
        """Seconds of sign-in history a new device is judged against."""
        value = seconds(
            self._get("NEW_DEVICE_LOOKBACK"),
            "SESSIONGUARD_NEW_DEVICE_LOOKBACK",
            positive=True,
        )
        return value or 1

    @cached_property
    def NEW_DEVICE_LINK_MAX_AGE(self) -> int:
        """Seconds the "This wasn't me" link of a new-device email stays valid."""
        value = seconds(
            self._get("NEW_DEVICE_LINK_MAX_AGE"),
            "SESSIONGUARD_NEW_DEVICE_LINK_MAX_AGE",
            positive=True,
        )
        return value or 1

    @cached_property
    def NEW_DEVICE_FROM_EMAIL(self) -> str | None:
        """Sender of new-device emails (None: ``DEFAULT_FROM_EMAIL``)."""
        return _optional_text(
            self._get("NEW_DEVICE_FROM_EMAIL"), "NEW_DEVICE_FROM_EMAIL"
        )

    @cached_property
    def PASSWORD_RESET_URL(self) -> str | None:
        """URL name or path of the site's password reset page (None: none)."""
        return _optional_text(self._get("PASSWORD_RESET_URL"), "PASSWORD_RESET_URL")


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"SESSIONGUARD_{name} must be True or False, not {value!r}.")
    return value


def _optional_text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            f"SESSIONGUARD_{name} must be a non-empty string or None, not {value!r}."
        )
    return value


def _choice(value: Any, choices: tuple[str, ...], name: str) -> str:
    if value not in choices:
        raise ValueError(
            f"SESSIONGUARD_{name} must be one of {', '.join(map(repr, choices))}, "
            f"not {value!r}."
        )
    return value  # type: ignore[no-any-return]


def _callable_path(value: str, name: str) -> str:
    try:
        target = import_string(value)
    except ImportError as exc:
        raise ValueError(f"{name} {value!r} cannot be imported ({exc}).") from None
    if not callable(target):
        raise ValueError(f"{name} {value!r} is not callable.")
    return value


@lru_cache(maxsize=8)
def _parse_instant(raw: str) -> datetime | None:
    return parse_datetime(raw)


def _instant(raw: Any, name: str) -> float | None:
    if raw is None:
        return None
    value = _parse_instant(raw) if isinstance(raw, str) else raw
    if not isinstance(value, datetime):
        raise ValueError(
            f"{name} must be an aware datetime or an ISO 8601 string, not {raw!r}."
        )
    if timezone.is_naive(value):
        raise ValueError(
            f"{name} must include a timezone (an aware datetime or a UTC offset), "
            f"got {raw!r}."
        )
    return value.timestamp()


def resolve_per_user(value: int | str | None, user: Any, name: str) -> int | None:
    """Apply a per-user setting: call the configured callable, normalise the result.

    Start-up checks cannot see what a callable returns, so a bad return value
    is logged and replaced by the PROFILE's value (None without a profile)
    rather than failing the request.
    """
    if not isinstance(value, str):
        return value
    func: Callable[[Any], Any] = import_string(value)
    result = func(user)
    try:
        return seconds(
            result, name, allow_none=True, positive=name != "SESSIONGUARD_MAX_SESSIONS"
        )
    except ValueError:
        logger.error(
            "%s callable %s returned %r; using the default instead.",
            name,
            value,
            result,
        )
        return conf.profile_timeout(name.removeprefix("SESSIONGUARD_"))


conf = SessionGuardSettings()


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("SESSIONGUARD_"):
        conf.reset()


setting_changed.connect(_on_setting_changed, dispatch_uid="sessionguard.conf")
