"""The session record and its audit trail."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from django_sessionguard.base_session import AbstractSession
from django_sessionguard.events import EventKind

if TYPE_CHECKING:
    from django.contrib.sessions.backends.base import SessionBase


class Session(AbstractSession):
    class Meta(AbstractSession.Meta):
        abstract = False
        db_table = "sessionguard_session"
        indexes = [
            models.Index(
                fields=["user", "expire_date"], name="sessionguard_user_live_idx"
            ),
            models.Index(fields=["expire_date"], name="sessionguard_expiry_idx"),
            # The admin: its list is ordered by last activity (and its date
            # hierarchy spans it); search finds an IP address or network.
            models.Index(fields=["last_activity"], name="sessionguard_activity_idx"),
            models.Index(fields=["ip_address"], name="sessionguard_ip_idx"),
        ]
        permissions = [("revoke_session", _("Can revoke sessions"))]

    @classmethod
    def get_session_store_class(cls) -> type[SessionBase]:
        from django_sessionguard.backends.db import SessionStore

        return SessionStore


class SessionEvent(models.Model):
    """One entry of the append-only audit trail."""

    kind = models.CharField(_("event"), max_length=32, choices=EventKind.choices)
    timestamp = models.DateTimeField(_("time"), default=timezone.now)
    session_ref = models.CharField(_("session"), max_length=32, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sessionguard_events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    device = models.CharField(_("device"), max_length=128, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        db_table = "sessionguard_event"
        verbose_name = _("session event")
        verbose_name_plural = _("session events")
        ordering = ["-timestamp", "-id"]
        indexes = [
            models.Index(fields=["timestamp"], name="sessionguard_event_time_idx"),
            models.Index(
                fields=["user", "timestamp"], name="sessionguard_event_user_idx"
            ),
            models.Index(
                fields=["kind", "timestamp"], name="sessionguard_event_kind_idx"
            ),
            models.Index(fields=["session_ref"], name="sessionguard_event_ref_idx"),
            models.Index(fields=["ip_address"], name="sessionguard_event_ip_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.session_ref}"
