"""Example production settings: PostgreSQL is the record, Redis the hot path.

Use with ``DJANGO_SETTINGS_MODULE=example_project.settings_production`` and
``pip install "django-sessionguard[redis]" "psycopg[binary]"``. Everything comes
from the environment; nothing here is a secret.

    DJANGO_SECRET_KEY        required
    DJANGO_ALLOWED_HOSTS     comma-separated, e.g. "example.com,www.example.com"
    DATABASE_HOST / _PORT / _NAME / _USER / _PASSWORD
    REDIS_URL                e.g. "redis://redis.internal:6379/0"
    SESSIONGUARD_TRUSTED_PROXIES  comma-separated CIDRs of your load balancers
"""

from __future__ import annotations

import os

os.environ["DJANGO_DEBUG"] = "0"  # before the base settings read it

from example_project.settings import *  # noqa: F403

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": os.environ.get("DATABASE_HOST", "127.0.0.1"),
        "PORT": int(os.environ.get("DATABASE_PORT", "5432")),
        "NAME": os.environ.get("DATABASE_NAME", "sessionguard"),
        "USER": os.environ.get("DATABASE_USER", "postgres"),
        "PASSWORD": os.environ.get("DATABASE_PASSWORD", ""),
        # Persistent connections: the session row is read on cache misses only.
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
}

# Every web process, on every machine, shares this cache: a session revoked in
# one process is gone in all of them.
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "KEY_PREFIX": "example",
    },
}
# Redis in front of the database for sessions.
SESSION_ENGINE = "django_sessionguard.backends.cached_db"
SESSION_CACHE_ALIAS = "default"

# Believe X-Forwarded-For / Forwarded only from these proxies.
SESSIONGUARD_TRUSTED_PROXIES = [
    cidr.strip()
    for cidr in os.environ.get("SESSIONGUARD_TRUSTED_PROXIES", "").split(",")
    if cidr.strip()
]
