"""Database-backed sessions: any database Django supports, nothing else to run."""

from __future__ import annotations

from django_sessionguard.backends.base import SessionGuardStore


class SessionStore(SessionGuardStore):
    """Sessions stored in :class:`django_sessionguard.models.Session`."""
