"""The session record and its audit trail."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from django_sessionguard.base_session import AbstractSession

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
        ]

    @classmethod
    def get_session_store_class(cls) -> type[SessionBase]:
        from django_sessionguard.backends.db import SessionStore

        return SessionStore
