"""System checks: a bad setting is a clear error at start-up, never a 500 later.

Ids are stable and documented in ``docs/checks.md``. The session cookie's
checks (``W010``, ``W011``, ``W030``-``W032``, ``E032``, ``E033``) are in
:mod:`django_sessionguard.cookie_checks`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.utils.module_loading import import_string

from django_sessionguard.conf import conf

MIDDLEWARE_PATH = "django_sessionguard.middleware.SessionGuardMiddleware"
DJANGO_SESSION_MIDDLEWARE = "django.contrib.sessions.middleware.SessionMiddleware"
AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"
ENGINES = ("django_sessionguard.backends.db", "django_sessionguard.backends.cached_db")
PROCESS_LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


def _setting_error(
    read: Callable[[], Any], check_id: str, hint: str
) -> list[CheckMessage]:
    try:
        read()
    except ValueError as exc:
        return [Error(str(exc), hint=hint, id=check_id)]
    return []


#: Settings checked by E006, with how to fix them (E001 and E002 have their own ids).
POLICY_SETTINGS = {
    "PROFILE": 'Use "AAL1", "AAL2", "AAL3" or None.',
    "IDLE_TIMEOUT": "Use a number of seconds, a datetime.timedelta, None, or the "
    "dotted path of a callable taking the user.",
    "ABSOLUTE_TIMEOUT": "Use a number of seconds, a datetime.timedelta, None, or "
    "the dotted path of a callable taking the user.",
    "MAX_SESSIONS": "Use a positive int, None, or the dotted path of a callable "
    "taking the user.",
    "LIMIT_POLICY": 'Use "evict_oldest" or "deny_new".',
    "IP_CHANGE": 'Use "ignore", "log" or "revoke".',
    "UA_CHANGE": 'Use "ignore", "log" or "revoke".',
    "PASSIVE_PATHS": 'Use a list of path prefixes such as ["/api/poll/"].',
    "EVENT_RETENTION": "Use a number of seconds, a datetime.timedelta, or None.",
}


@register(Tags.compatibility)
def check_settings(**kwargs: Any) -> list[CheckMessage]:
    """Every ``SESSIONGUARD_*`` setting has a value of the right type.

    Settings are read lazily on the request path, so an invalid value left
    unchecked here would be a 500 on the first request that needs it.
    """
    messages = [
        *_setting_error(
            lambda: conf.ACTIVITY_INTERVAL,
            "django_sessionguard.E001",
            "Use a non-negative number of seconds or a datetime.timedelta.",
        ),
        *_setting_error(
            lambda: conf.TRUSTED_PROXIES,
            "django_sessionguard.E002",
            'Use a list such as ["10.0.0.0/8", "::1"].',
        ),
    ]
    invalid = set()
    for name, hint in POLICY_SETTINGS.items():
        if name in ("IDLE_TIMEOUT", "ABSOLUTE_TIMEOUT") and "PROFILE" in invalid:
            continue  # their defaults come from the profile, already reported
        errors = _setting_error(
            partial(getattr, conf, name), "django_sessionguard.E006", hint
        )
        if errors:
            invalid.add(name)
        messages.extend(errors)
    if not invalid & {"PROFILE", "IDLE_TIMEOUT", "ABSOLUTE_TIMEOUT"}:
        messages.extend(_check_timeouts())
    return messages


def _check_timeouts() -> list[CheckMessage]:
    idle, absolute = conf.IDLE_TIMEOUT, conf.ABSOLUTE_TIMEOUT
    if isinstance(idle, int) and isinstance(absolute, int) and idle >= absolute:
        return [
            Warning(
                f"SESSIONGUARD_IDLE_TIMEOUT ({idle} s) is not shorter than "
                f"SESSIONGUARD_ABSOLUTE_TIMEOUT ({absolute} s): the idle timeout "
                "can never end a session.",
                hint="Make the idle timeout shorter, or remove it.",
                id="django_sessionguard.W003",
            )
        ]
    return []


#: Settings of the pages (devices page, re-authentication) checked by E007:
#: read when a page renders, so without this check a bad value is a 500 there.
#: (``GEOIP`` and ``LOCATE`` are checked with each other: E070.)
PAGE_SETTINGS = {
    "BASE_TEMPLATE": 'Use the name of a template, such as "base.html".',
    "MASK_IP": "Use True or False.",
    "REAUTH_FOR_REVOKE": "Use True or False.",
    "REAUTH_MAX_AGE": "Use a non-negative number of seconds or a datetime.timedelta.",
}


@register(Tags.compatibility)
def check_page_settings(**kwargs: Any) -> list[CheckMessage]:
    """The pages' settings have values of the right type."""
    return [
        message
        for name, hint in PAGE_SETTINGS.items()
        for message in _setting_error(
            partial(getattr, conf, name), "django_sessionguard.E007", hint
        )
    ]


def _middleware_classes(middleware: Sequence[str]) -> list[type | None]:
    classes: list[type | None] = []
    for path in middleware:
        try:
            loaded = import_string(path)
        except ImportError:
            loaded = None
        classes.append(loaded if isinstance(loaded, type) else None)
    return classes


def _index_of_subclass(classes: list[type | None], path: str) -> int | None:
    try:
        target = import_string(path)
    except ImportError:
        return None
    for index, cls in enumerate(classes):
        if cls is not None and issubclass(cls, target):
            return index
    return None


@register(Tags.compatibility)
def check_installation(**kwargs: Any) -> list[CheckMessage]:
    """The engine and the middleware are installed together, in a working order."""
    messages: list[CheckMessage] = []
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    engine = settings.SESSION_ENGINE
    classes = _middleware_classes(middleware)
    ours = _index_of_subclass(classes, MIDDLEWARE_PATH)
    if engine in ENGINES and ours is None:
        messages.append(
            Error(
                f"SESSION_ENGINE is {engine!r} but {MIDDLEWARE_PATH} is not in "
                "MIDDLEWARE.",
                hint=f"Replace {DJANGO_SESSION_MIDDLEWARE} with {MIDDLEWARE_PATH}.",
                id="django_sessionguard.E003",
            )
        )
    if DJANGO_SESSION_MIDDLEWARE in middleware and ours is not None:
        messages.append(
            Error(
                f"Both {DJANGO_SESSION_MIDDLEWARE} and {MIDDLEWARE_PATH} are in "
                "MIDDLEWARE; sessions would be loaded twice and metadata lost.",
                hint=f"Remove {DJANGO_SESSION_MIDDLEWARE}.",
                id="django_sessionguard.E004",
            )
        )
    auth = _index_of_subclass(classes, AUTH_MIDDLEWARE)
    if ours is not None and auth is not None and auth < ours:
        messages.append(
            Error(
                f"{MIDDLEWARE_PATH} must come before {AUTH_MIDDLEWARE} in MIDDLEWARE.",
                hint="Put it where SessionMiddleware was, above authentication.",
                id="django_sessionguard.E005",
            )
        )
    if ours is not None and engine not in ENGINES:
        messages.append(
            Warning(
                f"{MIDDLEWARE_PATH} is installed but SESSION_ENGINE is {engine!r}; "
                "sessions are not recorded.",
                hint='Set SESSION_ENGINE = "django_sessionguard.backends.db" '
                'or "django_sessionguard.backends.cached_db".',
                id="django_sessionguard.W001",
            )
        )
    return messages


@register(Tags.caches)
def check_shared_cache(**kwargs: Any) -> list[CheckMessage]:
    """``cached_db`` needs a cache every web process shares."""
    if settings.SESSION_ENGINE != "django_sessionguard.backends.cached_db":
        return []
    if settings.DEBUG:
        return []
    alias = settings.SESSION_CACHE_ALIAS
    backend = settings.CACHES.get(alias, {}).get("BACKEND", "")
    if backend in PROCESS_LOCAL_CACHES:
        return [
            Warning(
                f"The session cache {alias!r} uses {backend}, which each process "
                "keeps to itself: a session revoked in one process stays usable "
                "in the others.",
                hint="Use a shared cache such as Redis through django-redis.",
                id="django_sessionguard.W002",
            )
        ]
    return []


@register(Tags.compatibility)
def check_idle_warning(**kwargs: Any) -> list[CheckMessage]:
    """``SESSIONGUARD_IDLE_WARNING_BEFORE``: a duration under the idle timeout."""
    try:
        before = conf.IDLE_WARNING_BEFORE
    except ValueError as exc:
        return [
            Error(
                str(exc),
                hint="Use a non-negative number of seconds or a datetime.timedelta.",
                id="django_sessionguard.E020",
            )
        ]
    try:
        idle = conf.IDLE_TIMEOUT
    except ValueError:
        return []  # reported with the timeouts
    if isinstance(idle, int) and before >= idle:
        return [
            Warning(
                f"SESSIONGUARD_IDLE_WARNING_BEFORE ({before} s) is not shorter than "
                f"the idle timeout ({idle} s): the sign-out warning would show as "
                "soon as a page loads.",
                hint="Warn well before the deadline, e.g. 60 seconds before a "
                "15-minute idle timeout.",
                id="django_sessionguard.W020",
            )
        ]
    return []


def _looser_than_profile(name: str) -> CheckMessage | None:
    profile = conf.PROFILE
    if profile is None or not conf.is_set(name):
        return None
    preset = conf.profile_timeout(name)
    value = getattr(conf, name)
    if isinstance(value, str) or preset is None:
        return None  # a per-user callable, or nothing to compare with
    if value is not None and value <= preset:
        return None
    shown = "None (disabled)" if value is None else f"{value} s"
    return Warning(
        f"SESSIONGUARD_{name} is {shown}, looser than the {preset} s that "
        f"SESSIONGUARD_PROFILE = {profile!r} asks for.",
        hint=f"Remove SESSIONGUARD_{name} to use the profile's value, set it to "
        f"{preset} or less, or choose another profile.",
        id="django_sessionguard.W021",
    )


@register(Tags.compatibility)
def check_lifecycle_policy(**kwargs: Any) -> list[CheckMessage]:
    """Timeouts that contradict the chosen profile or the activity interval, and
    the global "not valid before" cut-off."""
    messages: list[CheckMessage] = []
    try:
        for name in (
            "PROFILE",
            "IDLE_TIMEOUT",
            "ABSOLUTE_TIMEOUT",
            "ACTIVITY_INTERVAL",
        ):
            getattr(conf, name)
    except ValueError:
        pass  # reported by check_settings (E001, E006)
    else:
        for name in ("IDLE_TIMEOUT", "ABSOLUTE_TIMEOUT"):
            looser = _looser_than_profile(name)
            if looser is not None:
                messages.append(looser)
        idle, interval = conf.IDLE_TIMEOUT, conf.ACTIVITY_INTERVAL
        if isinstance(idle, int) and idle < 2 * interval:
            messages.append(
                Warning(
                    f"SESSIONGUARD_IDLE_TIMEOUT ({idle} s) is shorter than twice "
                    f"SESSIONGUARD_ACTIVITY_INTERVAL ({interval} s). Activity is "
                    "recorded at most once per interval, so a user who keeps "
                    "working can be signed out as idle.",
                    hint="Lower SESSIONGUARD_ACTIVITY_INTERVAL to at most half the "
                    "idle timeout, or raise the idle timeout.",
                    id="django_sessionguard.W022",
                )
            )
    try:
        cutoff = conf.NOT_VALID_BEFORE
    except ValueError as exc:
        messages.append(
            Error(
                str(exc),
                hint='Use an aware datetime or a string such as "2026-01-31T12:00Z".',
                id="django_sessionguard.E021",
            )
        )
    else:
        if cutoff is not None and cutoff > time.time():
            messages.append(
                Warning(
                    "SESSIONGUARD_NOT_VALID_BEFORE is in the future: every "
                    "sign-in until then is ended on its next request.",
                    hint="Set it to the moment from which sessions are trusted, "
                    "usually now.",
                    id="django_sessionguard.W023",
                )
            )
    return messages


@register(Tags.compatibility)
def check_hardening_settings(**kwargs: Any) -> list[CheckMessage]:
    """``SESSIONGUARD_CLEAR_SITE_DATA`` and the session-key guessing settings."""
    return [
        *_setting_error(
            lambda: conf.CLEAR_SITE_DATA,
            "django_sessionguard.E030",
            'Use False, True, or a list such as ["cache", "cookies"].',
        ),
        *_setting_error(
            lambda: (
                conf.GUESSING_THRESHOLD,
                conf.GUESSING_WINDOW,
                conf.GUESSING_BLOCK,
            ),
            "django_sessionguard.E031",
            "SESSIONGUARD_GUESSING_THRESHOLD: a positive int or None; "
            "SESSIONGUARD_GUESSING_WINDOW: seconds or a timedelta; "
            "SESSIONGUARD_GUESSING_BLOCK: True or False.",
        ),
    ]


#: The privacy switches (E040), and the change policy each makes blind (W040, W041).
PRIVACY_FLAGS = {
    "TRACK_IP": ("IP_CHANGE", "django_sessionguard.W040"),
    "TRACK_USER_AGENT": ("UA_CHANGE", "django_sessionguard.W041"),
    "ANONYMIZE_IP": (None, None),
    "ERASE_ON_USER_DELETE": (None, None),
}
PRIVACY_HINTS = {
    "TRACK_IP": " (with SESSIONGUARD_ANONYMIZE_IP, networks are kept and compared)",
}


@register(Tags.compatibility)
def check_privacy_settings(**kwargs: Any) -> list[CheckMessage]:
    """The privacy switches are booleans; a change policy needs what it compares.

    With ``TRACK_IP`` / ``TRACK_USER_AGENT`` off nothing is kept to compare,
    so ``IP_CHANGE`` / ``UA_CHANGE`` can never fire (see ``docs/privacy.md``):
    anything but ``"ignore"`` is a contradiction worth a warning.
    """
    messages: list[CheckMessage] = []
    for name, (policy, warning_id) in PRIVACY_FLAGS.items():
        errors = _setting_error(
            partial(getattr, conf, name),
            "django_sessionguard.E040",
            f"Use True or False for SESSIONGUARD_{name}.",
        )
        messages.extend(errors)
        if errors or policy is None or warning_id is None or getattr(conf, name):
            continue
        try:
            action = getattr(conf, policy)
        except ValueError:
            continue  # reported by check_settings (E006)
        if action != "ignore":
            messages.append(
                Warning(
                    f'SESSIONGUARD_{policy} is "{action}" but SESSIONGUARD_{name} '
                    "is False: nothing is stored to compare, so the policy never "
                    "acts.",
                    hint=f'Set SESSIONGUARD_{policy} = "ignore" to accept this, '
                    f"or turn SESSIONGUARD_{name} back on"
                    f"{PRIVACY_HINTS.get(name, '')}.",
                    id=warning_id,
                )
            )
    return messages


@register(Tags.compatibility)
def check_location_settings(**kwargs: Any) -> list[CheckMessage]:
    """``SESSIONGUARD_GEOIP`` and ``SESSIONGUARD_LOCATE``: valid, and used.

    An unimportable or uncallable locator would otherwise fail every page
    that shows a location (see :mod:`django_sessionguard.locations`).
    """
    messages = [
        *_setting_error(
            lambda: conf.GEOIP,
            "django_sessionguard.E070",
            "Use True or False for SESSIONGUARD_GEOIP.",
        ),
        *_setting_error(
            lambda: conf.LOCATE,
            "django_sessionguard.E070",
            "Use the dotted path of a function that takes an IP address (str) "
            'and returns a place name or None, such as "myproject.geo.place", '
            "or None; check that its module imports.",
        ),
    ]
    if messages:
        return messages
    if conf.GEOIP and conf.LOCATE is not None:
        messages.append(
            Warning(
                f"SESSIONGUARD_LOCATE ({conf.LOCATE!r}) and SESSIONGUARD_GEOIP are "
                "both set: the locator is used and GEOIP is ignored.",
                hint="Remove SESSIONGUARD_GEOIP, or call "
                "django_sessionguard.locations.geoip_place from your locator to "
                "fall back on GeoIP2.",
                id="django_sessionguard.W070",
            )
        )
    try:
        tracked = conf.TRACK_IP
    except ValueError:
        return messages  # reported by check_privacy_settings (E040)
    if not tracked and (conf.GEOIP or conf.LOCATE is not None):
        messages.append(
            Warning(
                "A location lookup is configured (SESSIONGUARD_LOCATE or "
                "SESSIONGUARD_GEOIP) but SESSIONGUARD_TRACK_IP is False: no "
                "address is kept, so no place is ever looked up or shown.",
                hint="Remove the location setting, or track IP addresses (with "
                "SESSIONGUARD_ANONYMIZE_IP, networks are kept and located).",
                id="django_sessionguard.W071",
            )
        )
    return messages


#: New-device settings checked by E050, with how to fix them.
NEW_DEVICE_SETTINGS = {
    "NEW_DEVICE_DETECTION": "Use True or False.",
    "NEW_DEVICE_EMAIL": "Use True or False.",
    "NEW_DEVICE_LOOKBACK": "Use a number of seconds (at least 1) or a timedelta.",
    "NEW_DEVICE_LINK_MAX_AGE": "Use a number of seconds (at least 1) or a timedelta.",
    "NEW_DEVICE_FROM_EMAIL": "Use an email address, or None for DEFAULT_FROM_EMAIL.",
    "PASSWORD_RESET_URL": "Use a URL name or path, or None.",
}


@register(Tags.compatibility)
def check_new_device_settings(**kwargs: Any) -> list[CheckMessage]:
    """New-device detection: valid settings, something to compare, a usable link."""
    messages: list[CheckMessage] = []
    for name, hint in NEW_DEVICE_SETTINGS.items():
        messages.extend(
            _setting_error(
                partial(getattr, conf, name), "django_sessionguard.E050", hint
            )
        )
    if messages:
        return messages
    if not conf.new_device_detection:
        return []
    try:
        tracked = conf.TRACK_IP or conf.TRACK_USER_AGENT
        retention = conf.EVENT_RETENTION
    except ValueError:
        return []  # reported by E040 / E006
    if not tracked:
        messages.append(
            Warning(
                "New-device detection is on but SESSIONGUARD_TRACK_IP and "
                "SESSIONGUARD_TRACK_USER_AGENT are both False: nothing is kept to "
                "compare, so no sign-in is ever new.",
                hint="Turn one of them back on, or new-device detection off.",
                id="django_sessionguard.W050",
            )
        )
    if retention is not None and retention < conf.NEW_DEVICE_LINK_MAX_AGE:
        messages.append(
            Warning(
                "SESSIONGUARD_EVENT_RETENTION is shorter than "
                "SESSIONGUARD_NEW_DEVICE_LINK_MAX_AGE: a new-device email's link "
                "stops working when its event is purged, before it expires.",
                hint="Keep events at least as long as the link is valid.",
                id="django_sessionguard.W051",
            )
        )
    if conf.NEW_DEVICE_EMAIL:
        messages.extend(_not_me_url_messages())
    return messages


def _not_me_url_messages() -> list[CheckMessage]:
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("sessionguard:not-me", kwargs={"token": "x"})
    except NoReverseMatch:
        return [
            Warning(
                "SESSIONGUARD_NEW_DEVICE_EMAIL is on but the sessionguard URLs are "
                "not installed: the email's \"This wasn't me\" link cannot be built "
                "and no email is sent.",
                hint='Add path("account/sessions/", '
                'include("django_sessionguard.urls")) to your URLconf.',
                id="django_sessionguard.W052",
            )
        ]
    return []


#: Cache backends whose connection errors reach the caller (see docs/faults.md).
DJANGO_REDIS = "django_redis.cache.RedisCache"
DJANGO_BUILTIN_REDIS = "django.core.cache.backends.redis.RedisCache"


@register(Tags.caches)
def check_session_cache_faults(**kwargs: Any) -> list[CheckMessage]:
    """The session cache reports its failures, and a hung Redis cannot hang requests.

    Ending a session is fail-safe only if a failed cache write raises:
    django-redis's ``IGNORE_EXCEPTIONS`` (or ``DJANGO_REDIS_IGNORE_EXCEPTIONS``)
    makes it look successful and leaves the revoked session usable.
    """
    if settings.SESSION_ENGINE != "django_sessionguard.backends.cached_db":
        return []
    alias = settings.SESSION_CACHE_ALIAS
    config = settings.CACHES.get(alias, {})
    backend = config.get("BACKEND", "")
    options = config.get("OPTIONS") or {}
    messages: list[CheckMessage] = []
    if backend == DJANGO_REDIS and options.get(
        "IGNORE_EXCEPTIONS",
        getattr(settings, "DJANGO_REDIS_IGNORE_EXCEPTIONS", False),
    ):
        messages.append(
            Error(
                f"The session cache {alias!r} ignores Redis errors (django-redis "
                "IGNORE_EXCEPTIONS): a revocation or sign-out that could not reach "
                "Redis would look successful and leave the session usable from "
                "the cache.",
                hint=f'Set CACHES[{alias!r}]["OPTIONS"]["IGNORE_EXCEPTIONS"] = '
                "False (a dedicated alias for sessions keeps it on for the rest). "
                "Reads and saves already go around a Redis outage on their own.",
                id="django_sessionguard.E060",
            )
        )
    timeouts = {
        DJANGO_REDIS: ("SOCKET_TIMEOUT", "SOCKET_CONNECT_TIMEOUT"),
        DJANGO_BUILTIN_REDIS: ("socket_timeout", "socket_connect_timeout"),
    }.get(backend)
    if timeouts and not settings.DEBUG and not all(options.get(t) for t in timeouts):
        messages.append(
            Warning(
                f"The session cache {alias!r} has no {timeouts[0]} and "
                f"{timeouts[1]}: a Redis that hangs would hang every request.",
                hint=f'Set CACHES[{alias!r}]["OPTIONS"] {timeouts[0]} and '
                f"{timeouts[1]} to a second or less; see docs/faults.md.",
                id="django_sessionguard.W060",
            )
        )
    return messages
