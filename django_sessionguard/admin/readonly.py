"""The admin's read-only stance on the record and the audit trail."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """No add, change or delete through the admin.

    Sessions end only through revocation (recorded, cache-evicting), and the
    audit trail is append-only (pruned by ``sessionguard_purge_events``).
    """

    class Media:
        css = {"all": ["django_sessionguard/admin/admin.css"]}

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
