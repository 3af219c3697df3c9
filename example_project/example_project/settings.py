"""The demo: SQLite and local memory, nothing to start.

``DJANGO_DEBUG`` (default ``1``) turns development mode on. With
``DJANGO_DEBUG=0`` the project behaves like a deployment: ``DJANGO_SECRET_KEY``
is required, cookies are secure and HTTPS is enforced, and
``manage.py check --deploy`` is clean. ``settings_production.py`` shows the same
project on PostgreSQL and Redis.

``DEMO_DB`` names the SQLite file (default ``example_project/db.sqlite3``);
``make demo DEMO_DB=/tmp/demo.sqlite3`` keeps a second demo apart.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"

if DEBUG:
    SECRET_KEY = os.environ.get(
        "DJANGO_SECRET_KEY", "django-insecure-sessionguard-demo-only"
    )
else:
    try:
        SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
    except KeyError:
        raise ImproperlyConfigured(
            "Set DJANGO_SECRET_KEY when DJANGO_DEBUG=0."
        ) from None

ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_sessionguard",
    # Demo data only (manage.py seed_demo); settings_production leaves it out.
    "example_project.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # In place of django.contrib.sessions.middleware.SessionMiddleware:
    "django_sessionguard.middleware.SessionGuardMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

SESSION_ENGINE = "django_sessionguard.backends.db"

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"
ASGI_APPLICATION = "example_project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "example_project" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django_sessionguard.context_processors.signed_out_reason",
            ],
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DEMO_DB") or BASE_DIR / "db.sqlite3",
    }
}

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# The demo signs in 14 times while seeding, at ~0.4 s of PBKDF2 each. The smoke
# test (tests/test_demo.py) sets DEMO_FAST_HASHER=1 to do that with a fast hash,
# as the test suite does; `make demo` keeps Django's default hashers.
if os.environ.get("DEMO_FAST_HASHER") == "1":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# -- django-sessionguard: a policy small enough to see in a demo ---------------
# Signed out after two hours without a request, so the seeded devices stay
# listed while you explore; carol after three minutes, so the idle-warning
# dialog ({% sessionguard_idle_warning %} in base.html), which asks "Are you
# still there?" two minutes before, opens after a minute (a callable of the
# user: example_project/demo/limits.py).
SESSIONGUARD_IDLE_TIMEOUT = "example_project.demo.limits.idle_timeout"
SESSIONGUARD_IDLE_WARNING_BEFORE = 2 * 60
# Five sessions per account, two for staff (a callable of the user); a sign-in
# beyond that signs out the account's least recently active session.
SESSIONGUARD_MAX_SESSIONS = "example_project.demo.limits.max_sessions"
SESSIONGUARD_LIMIT_POLICY = "evict_oldest"
# "Your devices" and its confirmation pages inside the site's own layout.
SESSIONGUARD_BASE_TEMPLATE = "base.html"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "static"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_sessionguard": {"handlers": ["console"], "level": "INFO"}},
}

if not DEBUG:
    # The __Host- prefix: the browser keeps the cookie only if it is Secure,
    # for Path=/ and without Domain, so no subdomain can plant a session.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    SESSION_COOKIE_SECURE = True
    # NIST SP 800-63B AAL2: 1 hour idle, 24 hours at most (see docs/security.md).
    SESSIONGUARD_PROFILE = "AAL2"
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading HSTS is hard to undo (see settings_production.py): off unless
    # DJANGO_HSTS_PRELOAD=1, with Django's check asking for it silenced.
    SECURE_HSTS_PRELOAD = os.environ.get("DJANGO_HSTS_PRELOAD", "") == "1"
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
