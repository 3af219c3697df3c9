"""A session reference names a session exactly, on every database.

References are 32 lowercase hex digits, compared by the database. MySQL's and
MariaDB's usual collations (``utf8mb4_unicode_ci``, ``utf8mb4_general_ci``,
the test leg's choice) compare case-insensitively and ignore trailing spaces:
there ``reference = 'ABC... '`` finds the row of ``abc...``. So every entry
point that takes a reference from outside refuses anything but the exact
form before it reaches a query, and an upper-cased or padded reference is
answered like an unknown one: nothing ended, nothing kept, nothing shown.
(Session keys never reach a comparison: the cookie is hashed first.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from django_sessionguard import services
from django_sessionguard.events import EventKind
from django_sessionguard.models import Session, SessionEvent
from tests.test_admin_helpers import (
    REVOKER,
    change_url,
    make_user,
    staff_client,
)
from tests.test_admin_helpers import revoke_url as admin_revoke_url
from tests.user_sessions import IPHONE_SAFARI, SignedIn, is_live, sign_in

pytestmark = pytest.mark.django_db

VARIANTS: dict[str, Callable[[str], str]] = {
    "upper-cased": str.upper,
    "trailing space": lambda reference: reference + " ",
    "upper-cased, trailing space": lambda reference: reference.upper() + " ",
}


@pytest.fixture(params=list(VARIANTS))
def variant(request: pytest.FixtureRequest) -> Callable[[str], str]:
    return VARIANTS[request.param]


@pytest.fixture
def desktop(engine: str, user: Any) -> SignedIn:
    return sign_in(user)


@pytest.fixture
def phone(engine: str, user: Any) -> SignedIn:
    return sign_in(user, user_agent=IPHONE_SAFARI, ip="203.0.113.6")


def a_reference_with_letters(signed_in: SignedIn) -> str:
    reference = signed_in.reference
    # 32 hex digits without a letter are a 1-in-3-million draw; upper() would
    # not change them and the test would prove nothing.
    assert reference != reference.upper(), "redraw: the reference has no letter"
    return reference


def reference_collation() -> str | None:
    """The collation of the reference column on MySQL/MariaDB, else None."""
    if connection.vendor != "mysql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT collation_name FROM information_schema.columns "
            "WHERE table_schema = DATABASE() AND table_name = %s "
            "AND column_name = 'reference'",
            [Session._meta.db_table],
        )
        (collation,) = cursor.fetchone()
    return str(collation)


def revocations() -> int:
    return SessionEvent.objects.filter(
        kind__in=[EventKind.REVOKED_BY_USER, EventKind.REVOKED_BY_STAFF]
    ).count()


def test_what_the_database_alone_would_match(desktop: SignedIn) -> None:
    """Why the guards matter: the leg's own comparison of a case variant.

    Exact on SQLite and PostgreSQL; on MySQL/MariaDB with a ``_ci`` collation
    the upper-cased reference finds the row.
    """
    reference = a_reference_with_letters(desktop)
    collation = reference_collation()
    case_insensitive = collation is not None and collation.endswith("_ci")
    assert Session.objects.filter(reference=reference.upper()).exists() is (
        case_insensitive
    )
    assert Session.objects.filter(reference=reference).exists()


def test_revoke_session(user: Any, desktop: SignedIn, variant: Any) -> None:
    reference = a_reference_with_letters(desktop)
    assert services.revoke_session(user, variant(reference), actor=user) is False
    assert desktop.username() == "alice"
    assert revocations() == 0


def test_revoke_other_sessions_keeps_only_the_exact_reference(
    user: Any, desktop: SignedIn, phone: SignedIn, variant: Any
) -> None:
    """A variant names no session to keep, so none is kept (as on PostgreSQL)."""
    reference = a_reference_with_letters(desktop)
    ended = services.revoke_other_sessions(user, variant(reference), actor=user)
    assert ended == 2
    assert (desktop.username(), phone.username()) == (None, None)
    assert not is_live(reference)


def test_devices_page_and_api(desktop: SignedIn, phone: SignedIn, variant: Any) -> None:
    reference = a_reference_with_letters(phone)
    for name in ("sessionguard:revoke", "sessionguard:api-revoke"):
        url = reverse(name, args=[variant(reference)])
        unknown = reverse(name, args=["0" * 32])
        response = desktop.client.post(url)
        assert response.status_code == 404, name
        assert response.content == desktop.client.post(unknown).content, name
    assert phone.username() == "alice"
    assert revocations() == 0


def test_admin_pages(desktop: SignedIn, variant: Any) -> None:
    reference = a_reference_with_letters(desktop)
    staff = staff_client(make_user("revoker", staff=True, perms=REVOKER))
    assert staff.get(change_url(reference)).status_code == 200
    # Django's "doesn't exist" redirect, as for an unknown reference.
    response = staff.get(change_url(variant(reference)))
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert staff.get(admin_revoke_url(variant(reference))).status_code == 404
    response = staff.post(admin_revoke_url(variant(reference)), {"reason": ""})
    assert response.status_code == 404
    assert desktop.username() == "alice"
    assert revocations() == 0


def test_revoke_command(desktop: SignedIn, phone: SignedIn, variant: Any) -> None:
    reference = a_reference_with_letters(desktop)
    with pytest.raises(CommandError, match="is not a session reference"):
        call_command(
            "sessionguard_revoke", user="alice", others_than=variant(reference)
        )
    assert (desktop.username(), phone.username()) == ("alice", "alice")
    assert revocations() == 0
