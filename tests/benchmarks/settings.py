"""Settings for the benchmark only (independent of ``tests/settings.py``).

PostgreSQL database ``sessionguard_bench`` (created and migrated by the
benchmark), shared by every engine, and two Redis databases (flushed at start
and before every scenario): database 9 (``SESSIONGUARD_BENCH_REDIS_URL``, cache
alias ``default``) for every engine but Django's cache engine, whose sessions
are kept apart in database 10 (``SESSIONGUARD_BENCH_DJANGO_REDIS_URL``, default:
the next database on the same server; cache alias ``django_sessions``). The
only way to find a user's sessions in Django's cache engine is a ``SCAN`` of the
whole Redis database, so that database holds that engine's sessions and nothing
else: what the scan walks is the population the benchmark puts there, not
whatever the other engines left behind. Override the database with
``SESSIONGUARD_BENCH_DB_HOST`` / ``_PORT`` / ``_USER`` / ``_PASSWORD`` / ``_NAME``.

``SESSION_ENGINE`` and ``MIDDLEWARE`` below are placeholders: each engine
runs under ``override_settings`` with its own engine and session middleware.
Both ``django.contrib.sessions`` and ``django_sessionguard`` are installed so
that both record tables exist in the one database.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

DB_NAME = os.environ.get("SESSIONGUARD_BENCH_DB_NAME", "sessionguard_bench")
REDIS_URL = os.environ.get("SESSIONGUARD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")


def _next_database(url: str) -> str:
    """``redis://host:port/9`` -> ``redis://host:port/10`` (no database: 0 -> 1)."""
    parts = urlsplit(url)
    number = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{number + 1}"))


DJANGO_REDIS_URL = os.environ.get(
    "SESSIONGUARD_BENCH_DJANGO_REDIS_URL", _next_database(REDIS_URL)
)

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": os.environ.get("SESSIONGUARD_BENCH_DB_HOST", "127.0.0.1"),
        "PORT": int(os.environ.get("SESSIONGUARD_BENCH_DB_PORT", "5432")),
        "USER": os.environ.get("SESSIONGUARD_BENCH_DB_USER", "postgres"),
        "PASSWORD": os.environ.get("SESSIONGUARD_BENCH_DB_PASSWORD", ""),
        "NAME": DB_NAME,
        # Persistent connections, as any production deployment has them: a
        # new connection per request would dwarf what is being compared.
        "CONN_MAX_AGE": None,
    }
}

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    },
    # Django's cache engine only (its Engine sets SESSION_CACHE_ALIAS).
    "django_sessions": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": DJANGO_REDIS_URL,
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    },
}
SESSION_CACHE_ALIAS = "default"

SECRET_KEY = "sessionguard-benchmark-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ROOT_URLCONF = "tests.benchmarks.urls"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django_sessionguard",
]

# Placeholders; see the module docstring.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

# Our engines run with the policy a deployment would switch on, so its cost is
# part of the measurement: idle and absolute timeouts, activity throttling.
SESSIONGUARD_IDLE_TIMEOUT = 30 * 60
SESSIONGUARD_ABSOLUTE_TIMEOUT = 24 * 3600
SESSIONGUARD_ACTIVITY_INTERVAL = 60

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "loggers": {"django_sessionguard": {"level": "WARNING"}},
}
