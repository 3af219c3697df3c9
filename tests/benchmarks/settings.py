"""Settings for the benchmark only (independent of ``tests/settings.py``).

PostgreSQL database ``sessionguard_bench`` (created and migrated by the
benchmark) and Redis database 9 (flushed at start), shared by every engine.
Override with ``SESSIONGUARD_BENCH_DB_HOST`` / ``_PORT`` / ``_USER`` /
``_PASSWORD`` / ``_NAME`` and ``SESSIONGUARD_BENCH_REDIS_URL``.

``SESSION_ENGINE`` and ``MIDDLEWARE`` below are placeholders: each engine
runs under ``override_settings`` with its own engine and session middleware.
Both ``django.contrib.sessions`` and ``django_sessionguard`` are installed so
that both record tables exist in the one database.
"""

from __future__ import annotations

import os

DB_NAME = os.environ.get("SESSIONGUARD_BENCH_DB_NAME", "sessionguard_bench")
REDIS_URL = os.environ.get("SESSIONGUARD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")

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
    }
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
