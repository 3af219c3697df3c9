"""System checks for the session cookie's attributes.

They stand in for Django's ``security.W010``-``W015``, which go silent once
``django.contrib.sessions`` is replaced, and add the ``SameSite`` and
``__Host-`` rules and the missing-timeout warning. When each one runs:

* ``E032``, ``E033``: a cookie browsers refuse, so nobody can stay signed in.
  In every ``manage.py check`` (and ``runserver``...), whatever ``DEBUG``.
* ``W010``, ``W011`` (``Secure``, ``HttpOnly``): in every ``check`` with
  ``DEBUG`` off, and under ``check --deploy`` whatever ``DEBUG``.
* ``W030``-``W032`` (``SameSite``, the ``__Host-`` prefix, no timeout): in
  every ``check`` with ``DEBUG`` off (``--deploy`` included).

Only for projects whose ``SESSION_ENGINE`` is one of ours. Ids are documented
in ``docs/checks.md``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from django_sessionguard.checks import ENGINES
from django_sessionguard.conf import conf


def _ours() -> bool:
    return settings.SESSION_ENGINE in ENGINES


# -- E032 / E033: cookies browsers refuse ---------------------------------------


def _samesite_none() -> bool:
    """``SameSite=None`` asked for explicitly (not ``None``/``False``: no attribute)."""
    return str(settings.SESSION_COOKIE_SAMESITE).lower() == "none"


def _samesite_error() -> CheckMessage | None:
    if not _samesite_none() or settings.SESSION_COOKIE_SECURE:
        return None
    return Error(
        'SESSION_COOKIE_SAMESITE is "None" but SESSION_COOKIE_SECURE is '
        "not True: browsers reject such a cookie, so nobody can stay "
        "signed in.",
        hint='Set SESSION_COOKIE_SAMESITE = "Lax" (and SESSION_COOKIE_SECURE = True).',
        id="django_sessionguard.E032",
    )


def _prefix_broken() -> tuple[list[str], str]:
    """What breaks the cookie name's ``__Host-`` / ``__Secure-`` rules, and the fix."""
    lowered = settings.SESSION_COOKIE_NAME.lower()
    secure = settings.SESSION_COOKIE_SECURE
    domain = settings.SESSION_COOKIE_DOMAIN
    path = settings.SESSION_COOKIE_PATH
    if lowered.startswith("__host-"):
        broken = [
            *([] if secure else ["SESSION_COOKIE_SECURE is not True"]),
            *([f"SESSION_COOKIE_DOMAIN is {domain!r}"] if domain else []),
            *([] if path == "/" else [f"SESSION_COOKIE_PATH is {path!r}"]),
        ]
        return broken, (
            "A __Host- cookie needs SESSION_COOKIE_SECURE = True, "
            'SESSION_COOKIE_PATH = "/" and SESSION_COOKIE_DOMAIN = None.'
        )
    if lowered.startswith("__secure-"):
        broken = [] if secure else ["SESSION_COOKIE_SECURE is not True"]
        return broken, "A __Secure- cookie needs SESSION_COOKIE_SECURE = True."
    return [], ""


def _prefix_error() -> CheckMessage | None:
    broken, hint = _prefix_broken()
    if not broken:
        return None
    return Error(
        f"SESSION_COOKIE_NAME {settings.SESSION_COOKIE_NAME!r} has a prefix whose "
        f"rules the cookie breaks ({'; '.join(broken)}): browsers refuse it, so "
        "nobody can stay signed in.",
        hint=hint,
        id="django_sessionguard.E033",
    )


@register(Tags.security)
def check_usable_session_cookie(**kwargs: Any) -> list[CheckMessage]:
    """``E032``, ``E033``: in every ``check``, since nobody could stay signed in."""
    if not _ours():
        return []
    return [m for m in (_samesite_error(), _prefix_error()) if m is not None]


# -- W010 / W011: Secure and HttpOnly --------------------------------------------


def _secure_and_httponly() -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    if not settings.SESSION_COOKIE_SECURE:
        messages.append(
            Warning(
                "SESSION_COOKIE_SECURE is not True: the session cookie can be "
                "sent over plain HTTP and stolen.",
                hint="Set SESSION_COOKIE_SECURE = True.",
                id="django_sessionguard.W010",
            )
        )
    if not settings.SESSION_COOKIE_HTTPONLY:
        messages.append(
            Warning(
                "SESSION_COOKIE_HTTPONLY is not True: scripts can read the "
                "session cookie.",
                hint="Set SESSION_COOKIE_HTTPONLY = True.",
                id="django_sessionguard.W011",
            )
        )
    return messages


@register(Tags.security)
def check_session_cookie(**kwargs: Any) -> list[CheckMessage]:
    """``W010``, ``W011`` in every ``check`` with ``DEBUG`` off."""
    if settings.DEBUG or not _ours():
        return []
    return _secure_and_httponly()


@register(Tags.security, deploy=True)
def check_session_cookie_for_deploy(**kwargs: Any) -> list[CheckMessage]:
    """``W010``, ``W011`` under ``check --deploy`` with ``DEBUG`` on.

    With ``DEBUG`` off :func:`check_session_cookie` reports them already.
    """
    if not settings.DEBUG or not _ours():
        return []
    return _secure_and_httponly()


# -- W030 / W031 / W032: production recommendations ---------------------------------


def _samesite_warning() -> CheckMessage | None:
    samesite = settings.SESSION_COOKIE_SAMESITE
    if samesite not in (None, False) and not _samesite_none():
        return None
    if _samesite_error() is not None:
        return None  # E032 says more
    return Warning(
        f"SESSION_COOKIE_SAMESITE is {samesite!r}: the session cookie is sent "
        "with requests other sites make, which helps cross-site request "
        "forgery.",
        hint='Set SESSION_COOKIE_SAMESITE = "Lax" (Django\'s default) or "Strict".',
        id="django_sessionguard.W030",
    )


def _prefix_warning() -> CheckMessage | None:
    name = settings.SESSION_COOKIE_NAME
    if name.lower().startswith("__host-") or _prefix_broken()[0]:
        return None  # fine, or E033 says more
    return Warning(
        f"SESSION_COOKIE_NAME {name!r} has no __Host- prefix. With it, "
        "browsers accept the cookie only over HTTPS, for the whole site "
        "and from this host alone, so a subdomain or a plain-HTTP "
        "response cannot plant or overwrite it (session fixation).",
        hint='Set SESSION_COOKIE_NAME = "__Host-sessionid" (with '
        'SESSION_COOKIE_SECURE = True, SESSION_COOKIE_PATH = "/", no '
        "SESSION_COOKIE_DOMAIN). If subdomains must share the session, "
        "silence this check.",
        id="django_sessionguard.W031",
    )


def _timeout_warning() -> CheckMessage | None:
    try:
        idle, absolute = conf.IDLE_TIMEOUT, conf.ABSOLUTE_TIMEOUT
    except ValueError:
        return None  # reported by check_settings (E006)
    if idle is not None or absolute is not None:
        return None
    return Warning(
        "No idle or absolute session timeout is configured: a signed-in "
        "session lasts as long as its cookie (SESSION_COOKIE_AGE).",
        hint='Set SESSIONGUARD_PROFILE ("AAL1", "AAL2" or "AAL3", after NIST '
        "SP 800-63B), or SESSIONGUARD_IDLE_TIMEOUT and "
        "SESSIONGUARD_ABSOLUTE_TIMEOUT.",
        id="django_sessionguard.W032",
    )


@register(Tags.security)
def check_production_session_settings(**kwargs: Any) -> list[CheckMessage]:
    """With ``DEBUG`` off: SameSite, the ``__Host-`` cookie name, and timeouts."""
    if settings.DEBUG or not _ours():
        return []
    found = (_samesite_warning(), _prefix_warning(), _timeout_warning())
    return [m for m in found if m is not None]
