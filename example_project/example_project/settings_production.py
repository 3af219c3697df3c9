"""Production settings for the example project: PostgreSQL is the record, Redis
(through django-redis) the hot path, everything configured from the environment.

Run with ``DJANGO_SETTINGS_MODULE=example_project.settings_production`` once
django-sessionguard with its ``redis`` extra and ``psycopg[binary]`` are
installed (from Git until the package is released: see the README); check with
``python manage.py check --deploy`` (clean with the variables below set).
Nothing in this file is a secret, and nothing secret has a default.

Environment:

    DJANGO_SECRET_KEY             required; signs session data, CSRF tokens...
    DJANGO_SECRET_KEY_FALLBACKS   optional, comma-separated: previous keys, so
                                  rotating the key does not sign everybody out
    DJANGO_ALLOWED_HOSTS          required, comma-separated, e.g. "example.com"
    DATABASE_HOST / _PORT / _NAME / _USER / _PASSWORD
                                  PostgreSQL; defaults 127.0.0.1, 5432,
                                  sessionguard, postgres, (none)
    DATABASE_SSLMODE              libpq sslmode; default "prefer", use
                                  "verify-full" across a network you do not own
    REDIS_URL                     the default cache; default
                                  "redis://127.0.0.1:6379/0"; "rediss://..." for TLS
    REDIS_SESSIONS_URL            the sessions' cache (SESSION_CACHE_ALIAS
                                  "sessions"); default "redis://127.0.0.1:6379/1"
    REDIS_KEY_PREFIX              default "example"
    SESSIONGUARD_TRUSTED_PROXIES  comma-separated addresses / CIDRs of your load
                                  balancers (only they may set X-Forwarded-For)
    SESSIONGUARD_MAX_SESSIONS     optional: sessions per user (evict the oldest)
    DJANGO_HSTS_PRELOAD           "1" to ask browsers to preload HSTS (default
                                  off: read the comment at SECURE_HSTS_PRELOAD)
    DJANGO_STATIC_ROOT            optional: where collectstatic puts files

The site's shape (apps, middleware, templates, URLs) is the demo's, without the
demo's data app and its small limits. Everything that matters for a deployment
is set here, explicitly.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from example_project import settings as demo


def required(name: str) -> str:
    """An environment variable that must be set: start-up fails without it."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"Set the {name} environment variable.")
    return value


def env_list(name: str, *, must_be_set: bool = False) -> list[str]:
    """A comma-separated environment variable as a list."""
    raw = required(name) if must_be_set else os.environ.get(name, "")
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = False
SECRET_KEY = required("DJANGO_SECRET_KEY")
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", must_be_set=True)

BASE_DIR = demo.BASE_DIR
INSTALLED_APPS = [app for app in demo.INSTALLED_APPS if app != "example_project.demo"]
MIDDLEWARE = demo.MIDDLEWARE  # SessionGuardMiddleware in place of SessionMiddleware
ROOT_URLCONF = demo.ROOT_URLCONF
WSGI_APPLICATION = demo.WSGI_APPLICATION
ASGI_APPLICATION = demo.ASGI_APPLICATION
TEMPLATES = demo.TEMPLATES
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
LOGIN_URL = demo.LOGIN_URL
LOGIN_REDIRECT_URL = demo.LOGIN_REDIRECT_URL
LOGOUT_REDIRECT_URL = demo.LOGOUT_REDIRECT_URL
LANGUAGE_CODE = demo.LANGUAGE_CODE
TIME_ZONE = demo.TIME_ZONE
USE_I18N = True
USE_TZ = True
# ``manage.py collectstatic`` fills STATIC_ROOT; serve it from the web server
# (or WhiteNoise). The idle warning's script and style live there.
STATIC_URL = demo.STATIC_URL
STATIC_ROOT = os.environ.get("DJANGO_STATIC_ROOT") or demo.STATIC_ROOT
DEFAULT_AUTO_FIELD = demo.DEFAULT_AUTO_FIELD

# -- the record: PostgreSQL -----------------------------------------------------

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": os.environ.get("DATABASE_HOST", "127.0.0.1"),
        "PORT": int(os.environ.get("DATABASE_PORT", "5432")),
        "NAME": os.environ.get("DATABASE_NAME", "sessionguard"),
        "USER": os.environ.get("DATABASE_USER", "postgres"),
        "PASSWORD": os.environ.get("DATABASE_PASSWORD", ""),
        # Persistent connections: with cached_db the session row is read only
        # on a cache miss, but sign-ins, revocations and events write to it.
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            "connect_timeout": 5,
            "sslmode": os.environ.get("DATABASE_SSLMODE", "prefer"),
        },
    }
}

# -- the hot path: Redis through django-redis -----------------------------------

# Every web process on every machine shares these caches: a session revoked in
# one process is gone in all of them. Sessions get an alias of their own
# (SESSION_CACHE_ALIAS below), so cache.clear() on the default cache cannot
# touch them and each can be sized and tuned apart (docs/deployment.md).
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_SESSIONS_URL = os.environ.get("REDIS_SESSIONS_URL", "redis://127.0.0.1:6379/1")
REDIS_KEY_PREFIX = os.environ.get("REDIS_KEY_PREFIX", "example")
# A Redis that hangs must not hang every request with it: fail in about a
# second (a cached_db load then goes to the database; an ending fails loudly).
REDIS_TIMEOUTS = {"SOCKET_CONNECT_TIMEOUT": 1.0, "SOCKET_TIMEOUT": 1.0}

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": REDIS_KEY_PREFIX,
        "OPTIONS": {
            **REDIS_TIMEOUTS,
            "CONNECTION_POOL_KWARGS": {
                "max_connections": 50,
                "health_check_interval": 30,
            },
        },
    },
    "sessions": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_SESSIONS_URL,
        "KEY_PREFIX": REDIS_KEY_PREFIX,
        "OPTIONS": {
            # django-redis's DefaultClient: reads and writes go to LOCATION.
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            **REDIS_TIMEOUTS,
            "CONNECTION_POOL_KWARGS": {
                "max_connections": 50,
                "health_check_interval": 30,
            },
            # Never True for the sessions' cache (check E060): an ignored
            # error on a revocation's write would leave the revoked session
            # usable from the cache. django-sessionguard raises instead and
            # the revocation can be retried (docs/faults.md).
            "IGNORE_EXCEPTIONS": False,
        },
    },
}

# Redis Sentinel (django-redis >= 5.4), from docs/deployment.md: the
# LOCATION's host is the name of the monitored primary, and django-redis's
# SentinelConnectionFactory asks the sentinels where it is now and follows
# failovers. Keep the default client, so that every command, reads included,
# goes to the primary. Not django_redis.client.SentinelClient: it sends reads
# to replicas, and Redis replication is asynchronous, so a replica can still
# return a session just revoked on the primary (or the data before a save).
#
# SENTINELS = [
#     ("sentinel-1.internal", 26379),
#     ("sentinel-2.internal", 26379),
#     ("sentinel-3.internal", 26379),
# ]
# CACHES["sessions"] = {
#     "BACKEND": "django_redis.cache.RedisCache",
#     # The host part is the Sentinel service (primary) name, not a host.
#     "LOCATION": "redis://mymaster/1",
#     "KEY_PREFIX": REDIS_KEY_PREFIX,
#     "OPTIONS": {
#         "CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
#         "SENTINELS": SENTINELS,
#         # Optional: credentials of the sentinels themselves.
#         # "SENTINEL_KWARGS": {"password": "..."},
#         **REDIS_TIMEOUTS,
#         "IGNORE_EXCEPTIONS": False,
#     },
# }
DJANGO_REDIS_IGNORE_EXCEPTIONS = False  # django-redis's default, said out loud

# -- sessions ---------------------------------------------------------------------

# Redis in front of the database; the engine stores key hashes, never keys.
SESSION_ENGINE = "django_sessionguard.backends.cached_db"
SESSION_CACHE_ALIAS = "sessions"
# __Host-: the browser keeps the cookie only if it is Secure, for Path=/ and
# without Domain, so no subdomain can plant or overwrite a session cookie.
SESSION_COOKIE_NAME = "__Host-sessionid"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_NAME = "__Host-csrftoken"
CSRF_COOKIE_SECURE = True

# NIST SP 800-63B AAL2 timeouts (see docs/security.md); set
# SESSIONGUARD_IDLE_TIMEOUT / SESSIONGUARD_ABSOLUTE_TIMEOUT to override either.
SESSIONGUARD_PROFILE = "AAL2"
SESSIONGUARD_MAX_SESSIONS = (
    int(os.environ.get("SESSIONGUARD_MAX_SESSIONS") or 0) or None
)
# "Your devices" inside the site's layout (base.html also carries the idle warning).
SESSIONGUARD_BASE_TEMPLATE = demo.SESSIONGUARD_BASE_TEMPLATE

# Behind a load balancer: believe X-Forwarded-For / Forwarded only from it,
# e.g. SESSIONGUARD_TRUSTED_PROXIES="10.0.0.0/8,fd00::/8". Without it, the
# recorded address of every session would be the balancer's.
SESSIONGUARD_TRUSTED_PROXIES = env_list("SESSIONGUARD_TRUSTED_PROXIES")

# -- HTTPS --------------------------------------------------------------------------

SECURE_SSL_REDIRECT = True
# Only if your proxy sets X-Forwarded-Proto (and strips it from clients):
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# One year of HSTS.
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Preload (hstspreload.org) only once every subdomain, now and later, serves
# HTTPS: browsers then refuse plain HTTP for the whole domain, and removal from
# their lists takes months. Off unless DJANGO_HSTS_PRELOAD=1; while it is off,
# Django's deploy check that asks for it (security.W021) is silenced, by
# decision rather than oversight.
SECURE_HSTS_PRELOAD = os.environ.get("DJANGO_HSTS_PRELOAD", "") == "1"
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# -- logs -------------------------------------------------------------------------

# One JSON line per session event on stderr, for the log shipper / SIEM.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_sessionguard": {"handlers": ["console"], "level": "INFO"}},
}
