"""Whether Django's own session check refuses a session for good.

At every request :func:`django.contrib.auth.get_user` compares the session's
stored *auth hash* (an HMAC of the password hash it was signed in with) with
the user's current one and its ``SECRET_KEY_FALLBACKS`` variants; a session
that matches none of them is flushed and the request is anonymous. Such a
session can never become valid again: the hash of a key is set only when a
sign-in gives it a new key, so every copy of that key (its row, any cached
copy, any request in flight) carries the same refused hash.

That is what lets a session superseded by a password change end in the
database alone while the session cache cannot be reached
(``docs/faults.md``): a cached copy left behind is refused by Django as the
row would have been. Everything here errs towards "not refused": a session
that names no user, a user that no longer exists or a user model without
session auth hashes all count as possibly valid.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth import HASH_SESSION_KEY, get_user_model
from django.contrib.auth import SESSION_KEY as USER_ID_KEY
from django.utils.crypto import constant_time_compare


def user_id_of(data: Mapping[str, Any]) -> Any:
    """The primary key of the user a session's data names; None if none or malformed."""
    raw = data.get(USER_ID_KEY)
    if raw is None:
        return None
    try:
        return get_user_model()._meta.pk.to_python(raw)
    except Exception:
        return None


def refused_hash(data: Mapping[str, Any], user: Any) -> bool:
    """Whether Django refuses ``data`` (a session's data) as a session of ``user``.

    True only when ``data`` is signed in as ``user``, ``user`` has session auth
    hashes, and the stored hash matches neither the current one nor a fallback
    one: exactly the case in which ``get_user`` flushes the session.
    """
    if user is None or not hasattr(user, "get_session_auth_hash"):
        return False
    user_id = user_id_of(data)
    if user_id is None or user_id != user.pk:
        return False
    stored = data.get(HASH_SESSION_KEY)
    if not stored:
        return True  # Django flushes a signed-in session without a hash
    if constant_time_compare(stored, user.get_session_auth_hash()):
        return False
    fallbacks = getattr(user, "get_session_auth_fallback_hash", lambda: ())()
    return not any(constant_time_compare(stored, other) for other in fallbacks)


def refused_by_django(data: Mapping[str, Any]) -> bool:
    """Whether Django refuses ``data`` for good (one query: the user it names).

    The user is read from the user model directly, not through the
    authentication backend: a backend that refuses an inactive user today
    may accept it tomorrow, while a refused hash stays refused.
    """
    user_id = user_id_of(data)
    if user_id is None:
        return False
    user = get_user_model()._default_manager.filter(pk=user_id).first()
    return refused_hash(data, user)


async def arefused_by_django(data: Mapping[str, Any]) -> bool:
    """See :func:`refused_by_django`."""
    return await sync_to_async(refused_by_django)(data)
