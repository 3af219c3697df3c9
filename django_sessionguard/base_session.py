"""The abstract session record, importable without the app being installed.

Mirrors the idea of :mod:`django.contrib.sessions.base_session`: a project can
declare its own concrete model from :class:`AbstractSession` and point a
subclass of our store at it through ``get_model_class()``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from django_sessionguard import liveness
from django_sessionguard.devices import (
    FIELD_MAX_LENGTH,
    USER_AGENT_MAX_LENGTH,
    Device,
    DeviceType,
)
from django_sessionguard.keys import KEY_HASH_LENGTH, REFERENCE_LENGTH

if TYPE_CHECKING:
    from django.contrib.sessions.backends.base import SessionBase


class SessionQuerySet(models.QuerySet[Any]):
    """Queries over sessions (of :class:`AbstractSession` or a subclass)."""

    def active(self, now: datetime | None = None) -> SessionQuerySet:
        """Sessions that have not expired (idle and absolute timeouts aside:
        see :meth:`live`)."""
        return self.filter(expire_date__gt=now or timezone.now())

    def expired(self, now: datetime | None = None) -> SessionQuerySet:
        """Sessions past their expiry date."""
        return self.filter(expire_date__lte=now or timezone.now())

    def live(self, now: datetime | None = None, user: Any = None) -> SessionQuerySet:
        """Sessions the next request would not end: not expired, and (signed-in
        ones) past none of the not-valid-before cut-off, the absolute and the
        idle timeout.

        With ``user`` (a user instance): only that user's sessions, judged
        with the timeouts that apply to them (per-user callables included).
        Without, a timeout configured as a callable is not applied: such
        sessions are live until their expiry date. See
        :mod:`django_sessionguard.liveness`.
        """
        now = now or timezone.now()
        sessions = self if user is None else self.for_user(user)
        return sessions.filter(liveness.live_q(now, liveness.deadlines(now, user)))

    def dead(self, now: datetime | None = None, user: Any = None) -> SessionQuerySet:
        """The complement of :meth:`live`: expired, or past a deadline."""
        now = now or timezone.now()
        sessions = self if user is None else self.for_user(user)
        return sessions.filter(liveness.dead_q(now, liveness.deadlines(now, user)))

    def with_ending(
        self, now: datetime | None = None, user: Any = None
    ) -> SessionQuerySet:
        """Annotate each row with ``sessionguard_ending``: how it has ended.

        ``""`` for a live row (as :meth:`live` judges it, ``user`` likewise),
        ``"expired"`` past its expiry date, else the event kind its next
        request would record (``expired_absolute``, ``expired_idle`` or
        ``revoked_system`` for the not-valid-before cut-off).
        """
        now = now or timezone.now()
        found = liveness.deadlines(now, user)
        annotated: SessionQuerySet = self.annotate(
            sessionguard_ending=liveness.ending(now, found)
        )
        return annotated

    def for_user(self, user: Any) -> SessionQuerySet:
        """Sessions signed in as ``user`` (a user instance or primary key)."""
        return self.filter(user=user)

    def delete(self) -> tuple[int, dict[str, int]]:
        """Delete the rows and evict their cached copies, so deletion logs out.

        All or nothing: if the cached copies cannot be evicted
        (:class:`~django_sessionguard.faults.SessionCacheUnavailable`), the
        rows come back.
        """
        from django_sessionguard.backends.base import evict_cached_sessions

        using = getattr(self, "_db", None) or router.db_for_write(self.model)
        with transaction.atomic(using=using):
            key_hashes = list(self.values_list("key_hash", flat=True))
            result = super().delete()
            evict_cached_sessions(key_hashes)
        return result

    delete.alters_data = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]

    def delete_rows(self) -> int:
        """Delete the rows only, leaving cache eviction to the caller.

        One ``DELETE`` statement, no signals: used by the engines, which evict
        their own cache entries, and by the batched purge of expired rows.
        """
        using = getattr(self, "_db", None) or router.db_for_write(self.model)
        deleted: int = self._raw_delete(using)
        return deleted

    delete_rows.alters_data = True  # type: ignore[attr-defined]
    delete_rows.queryset_only = True  # type: ignore[attr-defined]


SessionManager = models.Manager.from_queryset(SessionQuerySet)


class AbstractSession(models.Model):
    """One row per session: who, from where, on what, since when."""

    key_hash = models.CharField(
        _("key hash"), max_length=KEY_HASH_LENGTH, primary_key=True, editable=False
    )
    reference = models.CharField(
        _("reference"), max_length=REFERENCE_LENGTH, unique=True, editable=False
    )
    session_data = models.TextField(_("session data"))
    expire_date = models.DateTimeField(_("expires"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sessionguard_sessions",
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(
        _("user agent"), max_length=USER_AGENT_MAX_LENGTH, blank=True
    )
    device_type = models.CharField(
        _("device type"),
        max_length=16,
        choices=DeviceType.choices,
        default=DeviceType.OTHER,
    )
    browser = models.CharField(_("browser"), max_length=FIELD_MAX_LENGTH, blank=True)
    browser_version = models.CharField(
        _("browser version"), max_length=FIELD_MAX_LENGTH, blank=True
    )
    os = models.CharField(
        _("operating system"), max_length=FIELD_MAX_LENGTH, blank=True
    )
    os_version = models.CharField(
        _("OS version"), max_length=FIELD_MAX_LENGTH, blank=True
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    authenticated_at = models.DateTimeField(_("signed in"), null=True, blank=True)
    last_activity = models.DateTimeField(_("last active"), default=timezone.now)

    objects = SessionManager()

    class Meta:
        abstract = True
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    def __str__(self) -> str:
        return self.reference

    @property
    def device(self) -> Device:
        """The parsed device summary stored on the row."""
        return Device(
            user_agent=self.user_agent,
            device_type=self.device_type,
            browser=self.browser,
            browser_version=self.browser_version,
            os=self.os,
            os_version=self.os_version,
        )

    def delete(
        self, using: str | None = None, keep_parents: bool = False
    ) -> tuple[int, dict[str, int]]:
        """Delete the row and evict its cached copies, so deletion logs out.

        All or nothing, like :meth:`SessionQuerySet.delete`.
        """
        from django_sessionguard.backends.base import evict_cached_sessions

        key_hash = self.key_hash
        with transaction.atomic(
            using=using or router.db_for_write(type(self), instance=self)
        ):
            result = super().delete(using=using, keep_parents=keep_parents)
            evict_cached_sessions([key_hash])
        return result

    delete.alters_data = True  # type: ignore[attr-defined]

    @property
    def is_active(self) -> bool:
        return self.expire_date > timezone.now()

    @classmethod
    def get_session_store_class(cls) -> type[SessionBase]:
        raise NotImplementedError

    def get_decoded(self) -> dict[str, Any]:
        """The session's data, decoded (for the shell; never shown in pages)."""
        session_store_class = self.get_session_store_class()
        return session_store_class().decode(self.session_data)
