"""Settings of the site the load run serves (and of the runner's own checks).

The example project's settings (apps, middleware, templates, the login and
devices pages), on PostgreSQL and Redis with the ``cached_db`` engine, plus a
small URLconf of the run's own (:mod:`tests.load.urls`). Plain HTTP on
loopback, so no HTTPS redirect and no ``Secure`` cookies; a fast password
hasher, because the run measures the session layer, not PBKDF2.

Environment (set by the runner):

``SESSIONGUARD_LOAD_DB_NAME``
    database name (default ``sessionguard_load``); host, port, user and
    password from ``SESSIONGUARD_LOAD_DB_HOST`` / ``_PORT`` / ``_USER`` /
    ``_PASSWORD`` (default 127.0.0.1, 5432, postgres, none).
``SESSIONGUARD_LOAD_REDIS_URL``
    default ``redis://127.0.0.1:6379/11``; keys carry ``SESSIONGUARD_LOAD_PREFIX``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "example_project"
if str(EXAMPLE_DIR) not in sys.path:
    sys.path.insert(0, str(EXAMPLE_DIR))

os.environ.setdefault("DJANGO_DEBUG", "1")  # the example's base, before overrides
from example_project import settings as example  # noqa: E402

DEBUG = False
SECRET_KEY = "sessionguard-load-run-not-a-secret"
ALLOWED_HOSTS = ["127.0.0.1"]

INSTALLED_APPS = example.INSTALLED_APPS
MIDDLEWARE = example.MIDDLEWARE
TEMPLATES = example.TEMPLATES
ROOT_URLCONF = "tests.load.urls"
LOGIN_URL = example.LOGIN_URL
LOGIN_REDIRECT_URL = example.LOGIN_REDIRECT_URL
LOGOUT_REDIRECT_URL = example.LOGOUT_REDIRECT_URL
USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = True
LANGUAGE_CODE = "en-us"
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": os.environ.get("SESSIONGUARD_LOAD_DB_HOST", "127.0.0.1"),
        "PORT": int(os.environ.get("SESSIONGUARD_LOAD_DB_PORT", "5432")),
        "USER": os.environ.get("SESSIONGUARD_LOAD_DB_USER", "postgres"),
        "PASSWORD": os.environ.get("SESSIONGUARD_LOAD_DB_PASSWORD", ""),
        "NAME": os.environ.get("SESSIONGUARD_LOAD_DB_NAME", "sessionguard_load"),
        "CONN_MAX_AGE": 60,
    }
}
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": os.environ.get(
            "SESSIONGUARD_LOAD_REDIS_URL", "redis://127.0.0.1:6379/11"
        ),
        "KEY_PREFIX": os.environ.get("SESSIONGUARD_LOAD_PREFIX", "sessionguard-load"),
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
        },
    }
}
SESSION_ENGINE = "django_sessionguard.backends.cached_db"
SESSION_CACHE_ALIAS = "default"

# The policy under load: a limit checked at every sign-in (never reached: the
# clients keep at most four sessions per user), forwarding headers believed
# from loopback (the clients spoof them), timeouts far beyond the run.
SESSIONGUARD_MAX_SESSIONS = 4
SESSIONGUARD_LIMIT_POLICY = "evict_oldest"
SESSIONGUARD_TRUSTED_PROXIES = ["127.0.0.1"]
SESSIONGUARD_IDLE_TIMEOUT = 3600
SESSIONGUARD_ABSOLUTE_TIMEOUT = None
SESSIONGUARD_BASE_TEMPLATE = "base.html"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {
        # Server errors reach gunicorn's error log, which the runner reads.
        "django.request": {"handlers": ["stderr"], "level": "ERROR"},
        "django_sessionguard": {"handlers": ["stderr"], "level": "ERROR"},
    },
}
