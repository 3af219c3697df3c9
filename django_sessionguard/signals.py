"""Signals sent by django-sessionguard. Receivers live in the host project."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent for every audit event, after it is recorded.
#: Arguments: ``sender`` (the SessionEvent class), ``event`` (the SessionEvent).
session_event = Signal()

#: Sent when sessions are ended by a revocation, an eviction or a timeout.
#: Arguments: ``sender`` (the Session class), ``user`` (owner or None),
#: ``references`` (list of public session references), ``kind`` (EventKind value),
#: ``actor`` (user who acted, or None for the system).
sessions_ended = Signal()
