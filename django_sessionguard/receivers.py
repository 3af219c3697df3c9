"""Signal receivers, connected in :meth:`SessionGuardConfig.ready`."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save, pre_delete
from django.http import HttpRequest

from django_sessionguard.backends.base import AUTH_AT_KEY, SessionGuardStore
from django_sessionguard.conf import conf
from django_sessionguard.events import EndReason, EventKind, record_event
from django_sessionguard.security_headers import note_signed_out


def on_login(
    sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any
) -> None:
    """Stamp the authentication time, bind the session under the limit, record it."""
    session = getattr(request, "session", None)
    if session is None:
        return
    if (
        isinstance(session, SessionGuardStore)
        and request is not None
        and session.session_key is not None
        and session.session_key == request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    ):
        # Django keeps the key when the same user signs in again on a session
        # already theirs; a new key at every sign-in makes a key taken before
        # it worthless after it (OWASP ASVS V3.2.1).
        session.cycle_key()
    # Signing in (again) restarts both clocks: the absolute timeout counts
    # from here, and the idle timeout from the later of this and activity.
    session[AUTH_AT_KEY] = time.time()
    if isinstance(session, SessionGuardStore) and request is not None:
        from django_sessionguard.limits import bind_login

        bind_login(request, user)
        if conf.new_device_detection:  # off by default, and then costs nothing
            from django_sessionguard.new_device import check_sign_in

            check_sign_in(request, session, user)


def on_logout(
    sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any
) -> None:
    session = getattr(request, "session", None)
    if not isinstance(session, SessionGuardStore) or session.session_key is None:
        return
    from django_sessionguard.devices import parse_user_agent

    # Cached copies first: if the session cache cannot be cleared this raises
    # and the sign-out is refused (a 503) before anything is recorded.
    session.seal()
    record_event(
        EventKind.LOGOUT,
        session_ref=session.reference or "",
        user_id=getattr(user, "pk", None),
        actor_id=getattr(user, "pk", None),
        ip_address=session._client_ip,
        device=str(parse_user_agent(session._client_user_agent or "")),
    )
    if user is not None and request is not None:
        # A signed-in browser signed itself out: the middleware adds
        # Clear-Site-Data (SESSIONGUARD_CLEAR_SITE_DATA) to this response.
        note_signed_out(request)


def _acting_request() -> HttpRequest | None:
    from django_sessionguard.middleware import current_request

    return current_request.get()


def _actor_of(request: HttpRequest | None) -> Any:
    """The signed-in user of the request being handled, if any (no query)."""
    if request is None:
        return None
    session = getattr(request, "session", None)
    if not isinstance(session, SessionGuardStore) or session.session_key is None:
        return None
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


def on_user_saved(
    sender: Any,
    instance: Any,
    created: bool,
    update_fields: frozenset[str] | None = None,
    **kwargs: Any,
) -> None:
    """A new password ends the user's other sessions; deactivation ends all.

    The session the password was changed from (the user's own request) stays;
    Django's ``update_session_auth_hash`` keeps it signed in. A reset, a
    change made by staff or in the shell ends every session. A password
    change goes through while the session cache is down
    (:func:`~django_sessionguard.services.end_sessions_after_password_change`);
    a deactivation is refused then, after Django saved it.
    """
    if created:
        return
    if update_fields is not None and not update_fields & {"password", "is_active"}:
        return
    from django_sessionguard import services

    request = _acting_request()
    actor = _actor_of(request)
    if not getattr(instance, "is_active", True):
        services.revoke_all_sessions(
            instance, actor=actor, reason=EndReason.USER_DEACTIVATED
        )
        return
    if getattr(instance, "_password", None) is None:
        return
    session = getattr(request, "session", None) if actor is not None else None
    keep = None
    if isinstance(session, SessionGuardStore) and actor.pk == instance.pk:
        keep = session.reference
    record_event(
        EventKind.PASSWORD_CHANGED,
        user_id=instance.pk,
        actor_id=getattr(actor, "pk", None),
        session_ref=keep or "",
        ip_address=getattr(session, "_client_ip", None),
    )
    # Never raises for a cache outage: the password is saved already, and
    # Django's update_session_auth_hash must still run after this.
    services.end_sessions_after_password_change(instance, keep, actor=actor)


def on_user_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Deleting a user ends their sessions everywhere, cache included.

    With ``SESSIONGUARD_ERASE_ON_USER_DELETE`` their session history goes too
    (:func:`~django_sessionguard.services.erase_user_history`), while the
    events can still be found by user: after the deletion they could not.
    """
    from django_sessionguard import services

    if conf.ERASE_ON_USER_DELETE:
        services.erase_user_history(instance)
        return
    services.revoke_all_sessions(
        instance, actor=_actor_of(_acting_request()), reason=EndReason.USER_DELETED
    )


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
