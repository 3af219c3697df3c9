"""``manage.py sessionguard_policy``: the effective session policy, for the record.

Prints what is actually in force (profile presets applied, defaults filled
in) as text for security documentation or as JSON for tooling and diffs.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from django_sessionguard.conf import DEFAULTS, conf

#: Settings shown in their own lines; any other ``SESSIONGUARD_*`` setting is
#: listed after them, so new settings appear without changes here.
_CORE = (
    "PROFILE",
    "IDLE_TIMEOUT",
    "ABSOLUTE_TIMEOUT",
    "MAX_SESSIONS",
    "LIMIT_POLICY",
    "IP_CHANGE",
    "UA_CHANGE",
    "ACTIVITY_INTERVAL",
    "PASSIVE_PATHS",
    "TRUSTED_PROXIES",
    "EVENT_RETENTION",
)
_COOKIE_SETTINGS = (
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_AGE",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_DOMAIN",
    "SESSION_COOKIE_PATH",
    "SESSION_EXPIRE_AT_BROWSER_CLOSE",
    "SESSION_SAVE_EVERY_REQUEST",
    "SESSION_SERIALIZER",
)


def duration(seconds: int) -> str:
    """``3600`` -> "1 hour": the largest unit that divides the value exactly."""
    for size, singular, plural in (
        (86400, "%(n)d day", "%(n)d days"),
        (3600, "%(n)d hour", "%(n)d hours"),
        (60, "%(n)d minute", "%(n)d minutes"),
        (1, "%(n)d second", "%(n)d seconds"),
    ):
        if seconds % size == 0 and (seconds or size == 1):
            n = seconds // size
            return ngettext(singular, plural, n) % {"n": n}
    raise AssertionError("unreachable: every int is a multiple of 1")


def _plain(value: Any) -> Any:
    """A JSON-friendly copy of a setting's value."""
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _timeout(name: str, value: int | str | None) -> dict[str, Any]:
    explicit = getattr(settings, f"SESSIONGUARD_{name}", None) is not None
    if isinstance(value, str):
        return {"seconds": None, "callable": value, "source": "setting"}
    if value is None:
        source = "setting" if explicit else "unset"
    else:
        source = "setting" if explicit else "profile"
    return {"seconds": value, "callable": None, "source": source}


def effective_policy() -> dict[str, Any]:
    """Everything the ``sessionguard_policy`` command prints, as plain data."""
    try:
        policy: dict[str, Any] = {
            "engine": settings.SESSION_ENGINE,
            "session_cache_alias": getattr(settings, "SESSION_CACHE_ALIAS", "default"),
            "profile": conf.PROFILE,
            "idle_timeout": _timeout("IDLE_TIMEOUT", conf.IDLE_TIMEOUT),
            "absolute_timeout": _timeout("ABSOLUTE_TIMEOUT", conf.ABSOLUTE_TIMEOUT),
            "max_sessions": conf.MAX_SESSIONS,
            "limit_policy": conf.LIMIT_POLICY,
            "ip_change": conf.IP_CHANGE,
            "ua_change": conf.UA_CHANGE,
            "activity_interval": conf.ACTIVITY_INTERVAL,
            "passive_paths": list(conf.PASSIVE_PATHS),
            "trusted_proxies": [str(net) for net in conf.TRUSTED_PROXIES],
            "event_retention": conf.EVENT_RETENTION,
            "cookie": {
                name: _plain(getattr(settings, name)) for name in _COOKIE_SETTINGS
            },
            "other": {
                name.lower(): _plain(getattr(conf, name))
                for name in DEFAULTS
                if name not in _CORE and hasattr(type(conf), name)
            },
        }
    except ValueError as exc:
        raise CommandError(
            _("The session policy is misconfigured: %(error)s") % {"error": exc}
        ) from None
    return policy


class Command(BaseCommand):
    help = (
        "Print the effective session policy (timeouts, limits, reactions, "
        "retention, cookie) for security documentation."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--format",
            choices=("text", "json"),
            default="text",
            help="text (default) for people, json for tools.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output_format = options.get("format") or "text"
        if output_format not in ("text", "json"):
            raise CommandError(
                _("--format must be text or json, not %(value)r.")
                % {"value": output_format}
            )
        policy = effective_policy()
        if output_format == "json":
            self.stdout.write(json.dumps(policy, indent=2, sort_keys=True))
        else:
            self.stdout.write(self.render_text(policy))

    def render_text(self, policy: dict[str, Any]) -> str:
        rows: list[tuple[str, str]] = [
            (_("Session engine"), policy["engine"]),
        ]
        if policy["engine"].endswith("cached_db"):
            rows.append((_("Session cache alias"), policy["session_cache_alias"]))
        profile = policy["profile"]
        rows += [
            (
                _("Profile"),
                _("%(profile)s (NIST SP 800-63B rev 4)") % {"profile": profile}
                if profile
                else _("none"),
            ),
            (_("Idle timeout"), self._timeout_text(policy["idle_timeout"], profile)),
            (
                _("Absolute timeout"),
                self._timeout_text(policy["absolute_timeout"], profile),
            ),
            (_("Sessions per user"), self._limit_text(policy["max_sessions"])),
            (_("Over the limit"), self._limit_policy_text(policy["limit_policy"])),
            (_("IP address change"), self._reaction_text(policy["ip_change"])),
            (_("Browser change"), self._reaction_text(policy["ua_change"])),
            (
                _("Activity recorded"),
                _("at most every %(interval)s")
                % {"interval": duration(policy["activity_interval"])},
            ),
            (
                _("Passive paths"),
                ", ".join(policy["passive_paths"]) or _("none"),
            ),
            (
                _("Trusted proxies"),
                ", ".join(policy["trusted_proxies"])
                or _("none (the connecting address is the client)"),
            ),
            (
                _("Event retention"),
                duration(policy["event_retention"])
                if policy["event_retention"] is not None
                else _("forever (nothing is purged)"),
            ),
        ]
        rows += [(name, repr(value)) for name, value in policy["cookie"].items()]
        rows += [
            (f"SESSIONGUARD_{name.upper()}", repr(value))
            for name, value in policy["other"].items()
        ]
        width = max(len(label) for label, _value in rows) + 2
        lines = [_("django-sessionguard effective session policy"), ""]
        lines += [f"{label + ':':<{width}}{value}" for label, value in rows]
        return "\n".join(lines)

    @staticmethod
    def _timeout_text(timeout: dict[str, Any], profile: str | None) -> str:
        if timeout["callable"]:
            return _("per-user callable %(path)s") % {"path": timeout["callable"]}
        if timeout["seconds"] is None:
            return _("none")
        text = duration(timeout["seconds"])
        if timeout["source"] == "profile":
            text += " " + _("(from profile %(profile)s)") % {"profile": profile}
        return text

    @staticmethod
    def _limit_text(value: int | str | None) -> str:
        if value is None:
            return _("unlimited")
        if isinstance(value, str):
            return _("per-user callable %(path)s") % {"path": value}
        return str(value)

    @staticmethod
    def _limit_policy_text(value: str) -> str:
        if value == "deny_new":
            return _("deny_new (the new sign-in is refused)")
        return _("evict_oldest (the least recently active session ends)")

    @staticmethod
    def _reaction_text(value: str) -> str:
        return {
            "ignore": _("ignore"),
            "log": _("log (audit event only)"),
            "revoke": _("revoke (the session ends)"),
        }.get(value, value)
