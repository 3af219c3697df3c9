"""Session keys: what the cookie holds, and the non-secret names derived from it.

The cookie value is a bearer credential and is never stored. The database row
and the cache entries are named by :func:`hash_key` (SHA-256 of the key);
pages, URLs, events and logs use :func:`reference_for`, derived one-way from
that hash, so neither can be turned back into a cookie.
"""

from __future__ import annotations

import hashlib
import re
from typing import TypeGuard

#: Django's keys are 32 characters of ``[a-z0-9]``; 64 leaves room for others.
_VALID_KEY = re.compile(r"[a-z0-9]{32,64}")
_VALID_REFERENCE = re.compile(r"[0-9a-f]{32}")
KEY_HASH_LENGTH = 64
REFERENCE_LENGTH = 32


def is_well_formed(session_key: object) -> TypeGuard[str]:
    """Whether ``session_key`` has the shape of a key this app could have issued."""
    return (
        isinstance(session_key, str) and _VALID_KEY.fullmatch(session_key) is not None
    )


def is_reference(value: object) -> TypeGuard[str]:
    """Whether ``value`` has the shape of a :func:`reference_for` result.

    References arrive in URLs and forms: anything else (a NUL byte, which
    PostgreSQL refuses in a query, above all) is answered without a lookup.
    """
    return isinstance(value, str) and _VALID_REFERENCE.fullmatch(value) is not None


def hash_key(session_key: str) -> str:
    """The at-rest name of a session: hex SHA-256 of the cookie value."""
    return hashlib.sha256(session_key.encode("ascii")).hexdigest()


def reference_for(key_hash: str) -> str:
    """The public identifier of a session, safe to show in pages and URLs."""
    digest = hashlib.sha256(b"sessionguard.reference:" + key_hash.encode("ascii"))
    return digest.hexdigest()[:REFERENCE_LENGTH]
