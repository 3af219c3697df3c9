"""Settings for the test suite: one module, the leg chosen by environment variables.

``SESSIONGUARD_TEST_DB``
    ``sqlite`` (default; pytest-django runs it in memory), ``postgres`` or
    ``mysql`` (MariaDB or MySQL; needs ``mysqlclient``: ``make venv-mysql``.
    ``PyMySQL`` is used when it is missing, which only Django 5.2 accepts:
    Django 6 wants mysqlclient 2.2.1, and PyMySQL poses as an older one).
    Server databases read ``SESSIONGUARD_TEST_DB_HOST`` / ``_PORT`` /
    ``_USER`` / ``_PASSWORD`` / ``_NAME``; the defaults match the local
    services (127.0.0.1, trust/root, database ``sessionguard_<run id>``;
    pytest-django creates ``test_sessionguard_<run id>`` and drops it at the
    end).
``SESSIONGUARD_TEST_CACHE``
    ``locmem`` (default) or ``redis`` (django-redis at
    ``SESSIONGUARD_TEST_REDIS_URL``, default ``redis://127.0.0.1:6379/7``; the
    suite deletes this run's keys between tests, see conftest.redis_flush).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import django
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent

TEST_DB = os.environ.get("SESSIONGUARD_TEST_DB", "sqlite")
TEST_CACHE = os.environ.get("SESSIONGUARD_TEST_CACHE", "locmem")
TEST_REDIS_URL = os.environ.get(
    "SESSIONGUARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/7"
)
#: Names this run's database and cache keys, so concurrent runs (several
#: developers' suites on one machine) never touch each other's data. Exported
#: so the processes a test starts join the same run.
TEST_RUN_ID = os.environ.setdefault("SESSIONGUARD_TEST_RUN_ID", str(os.getpid()))


def _server_database(engine: str, port: int, user: str) -> dict[str, Any]:
    return {
        "ENGINE": engine,
        "HOST": os.environ.get("SESSIONGUARD_TEST_DB_HOST", "127.0.0.1"),
        "PORT": int(os.environ.get("SESSIONGUARD_TEST_DB_PORT", port)),
        "USER": os.environ.get("SESSIONGUARD_TEST_DB_USER", user),
        "PASSWORD": os.environ.get("SESSIONGUARD_TEST_DB_PASSWORD", ""),
        "NAME": os.environ.get(
            "SESSIONGUARD_TEST_DB_NAME", f"sessionguard_{TEST_RUN_ID}"
        ),
    }


def _mysql_database() -> dict[str, Any]:
    try:
        import MySQLdb  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        try:
            import pymysql  # type: ignore[import-untyped]
        except ImportError:
            raise ImproperlyConfigured(
                "SESSIONGUARD_TEST_DB=mysql needs mysqlclient or PyMySQL installed."
            ) from None
        pymysql.install_as_MySQLdb()
    database = _server_database("django.db.backends.mysql", 3306, "root")
    database["OPTIONS"] = {"charset": "utf8mb4"}
    database["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    return database


if TEST_DB == "sqlite":
    # No TEST name: pytest-django (through Django) uses an in-memory database.
    DATABASES: dict[str, dict[str, Any]] = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "sessionguard-tests.sqlite3",
        }
    }
elif TEST_DB == "postgres":
    DATABASES = {
        "default": _server_database("django.db.backends.postgresql", 5432, "postgres")
    }
elif TEST_DB == "mysql":
    DATABASES = {"default": _mysql_database()}
else:
    raise ImproperlyConfigured(
        f"SESSIONGUARD_TEST_DB must be sqlite, postgres or mysql, not {TEST_DB!r}."
    )

if TEST_CACHE == "locmem":
    CACHES: dict[str, dict[str, Any]] = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "sessionguard-default",
        },
        "sessions": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "sessionguard-sessions",
        },
    }
elif TEST_CACHE == "redis":
    # One Redis database for both aliases, told apart by KEY_PREFIX; the run id
    # in the prefix keeps concurrent runs apart (see conftest.redis_flush).
    CACHES = {
        alias: {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": TEST_REDIS_URL,
            "KEY_PREFIX": f"{alias}-{TEST_RUN_ID}",
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
        for alias in ("default", "sessions")
    }
else:
    raise ImproperlyConfigured(
        f"SESSIONGUARD_TEST_CACHE must be locmem or redis, not {TEST_CACHE!r}."
    )

SESSION_CACHE_ALIAS = "sessions"
SESSION_ENGINE = "django_sessionguard.backends.db"

SECRET_KEY = "sessionguard-tests-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_sessionguard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_sessionguard.middleware.SessionGuardMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "tests.urls"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/read/"
LOGOUT_REDIRECT_URL = "/login/"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

STATIC_URL = "/static/"

# Django 6.1 replaces EMAIL_BACKEND with MAILERS (EMAIL_BACKEND and sending
# without MAILERS are deprecated there). Django's test runner swaps every
# mailer for the in-memory backend either way (mail.outbox).
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}

# Fast hashing: the suite logs users in thousands of times.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
