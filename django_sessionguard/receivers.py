"""Signal receivers, connected in :meth:`SessionGuardConfig.ready`."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest

from django_sessionguard.backends.base import AUTH_AT_KEY


def record_authentication_time(
    sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any
) -> None:
    """Stamp the session with the moment its user authenticated."""
    session = getattr(request, "session", None)
    if session is not None:
        session[AUTH_AT_KEY] = time.time()


def connect() -> None:
    user_logged_in.connect(
        record_authentication_time, dispatch_uid="sessionguard.authentication_time"
    )
