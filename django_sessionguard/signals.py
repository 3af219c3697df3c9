"""Signals sent by django-sessionguard. Receivers live in the host project."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent for every audit event, once it is recorded (and its transaction, if
#: django-sessionguard opened one, has succeeded).
#: Arguments: ``sender`` (the SessionEvent class), ``event`` (the SessionEvent).
session_event = Signal()

#: Sent when sessions are ended: revoked, evicted by the session limit, timed
#: out, or ended by a context change. Not sent for a plain logout.
#: Arguments: ``sender`` (the Session class), ``user_id`` (the owner's primary
#: key, or None), ``references`` (list of public session references), ``kind``
#: (the EventKind value recorded for them), ``actor`` (the user who acted, or
#: None when the system did).
sessions_ended = Signal()

#: Sent when one client sent more unknown (well-formed) session keys than
#: ``SESSIONGUARD_GUESSING_THRESHOLD`` within ``SESSIONGUARD_GUESSING_WINDOW``;
#: once per client and window, after the ``key_guessing`` event is recorded.
#: Arguments: ``sender`` (the SessionEvent class), ``ip_address`` (the client's
#: address as the trusted-proxy logic found it, or None), ``count`` (unknown keys
#: so far in the window), ``window`` (seconds), ``event`` (the SessionEvent).
key_guessing_detected = Signal()

#: Sent when a sign-in comes from a device family and a network the user has
#: not used within ``SESSIONGUARD_NEW_DEVICE_LOOKBACK``, while
#: ``SESSIONGUARD_NEW_DEVICE_DETECTION`` or ``SESSIONGUARD_NEW_DEVICE_EMAIL`` is
#: on; after the ``new_device`` event is recorded.
#: Arguments: ``sender`` (the SessionEvent class), ``user`` (who signed in),
#: ``request`` (the sign-in request), ``reference`` (the new session's public
#: reference, never its key), ``event`` (the ``new_device`` SessionEvent).
new_device_login = Signal()
