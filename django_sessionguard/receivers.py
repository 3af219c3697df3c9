"""Signal receivers, connected in :meth:`SessionGuardConfig.ready`."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save, pre_delete
from django.http import HttpRequest

from django_sessionguard.backends.base import AUTH_AT_KEY, SessionGuardStore
from django_sessionguard.events import EventKind, record_event


def on_login(
    sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any
) -> None:
    """Stamp the authentication time, bind the session under the limit, record it."""
    session = getattr(request, "session", None)
    if session is None:
        return
    session[AUTH_AT_KEY] = time.time()
    if isinstance(session, SessionGuardStore) and request is not None:
        from django_sessionguard.limits import bind_login

        bind_login(request, user)


def on_logout(
    sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any
) -> None:
    session = getattr(request, "session", None)
    if not isinstance(session, SessionGuardStore) or session.session_key is None:
        return
    from django_sessionguard.devices import parse_user_agent

    record_event(
        EventKind.LOGOUT,
        session_ref=session.reference or "",
        user_id=getattr(user, "pk", None),
        actor_id=getattr(user, "pk", None),
        ip_address=session._client_ip,
        device=str(parse_user_agent(session._client_user_agent or "")),
    )


def on_user_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """A new password ends the user's other sessions; deactivation ends all."""
    if created:
        return
    from django_sessionguard import services
    from django_sessionguard.middleware import current_session

    if not getattr(instance, "is_active", True):
        services.revoke_all_sessions(instance, reason="user_deactivated")
        return
    if getattr(instance, "_password", None) is None:
        return
    session = current_session.get()
    keep = None
    if session is not None and session._user_id(session._get_session()) == instance.pk:
        keep = session.reference
    actor = instance if keep else None
    record_event(
        EventKind.PASSWORD_CHANGED,
        user_id=instance.pk,
        actor_id=getattr(actor, "pk", None),
        session_ref=keep or "",
    )
    services.revoke_other_sessions(
        instance, keep, actor=actor, kind=EventKind.PASSWORD_CHANGED
    )


def on_user_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Deleting a user ends their sessions everywhere, cache included."""
    from django_sessionguard import services

    services.revoke_all_sessions(instance, reason="user_deleted")


def connect() -> None:
    user_model = get_user_model()
    user_logged_in.connect(on_login, dispatch_uid="sessionguard.login")
    user_logged_out.connect(on_logout, dispatch_uid="sessionguard.logout")
    post_save.connect(
        on_user_saved, sender=user_model, dispatch_uid="sessionguard.user_saved"
    )
    pre_delete.connect(
        on_user_deleted, sender=user_model, dispatch_uid="sessionguard.user_deleted"
    )
