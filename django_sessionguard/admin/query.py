"""Changelist query strings refused before any query: those holding a NUL byte.

PostgreSQL refuses a NUL byte in a query parameter, so a filter or search value
holding one (``?browser=%00``, ``?kind=%00``) would be a server error wherever
it reached the database. Django's admin answers lookups it cannot use with a
redirect to the unfiltered list (``?e=1``); these get the same answer.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.options import IncorrectLookupParameters
from django.http import HttpRequest


def has_nul(request: HttpRequest) -> bool:
    """Whether any query parameter's name or value holds a NUL byte."""
    return any(
        "\x00" in name or any("\x00" in value for value in values)
        for name, values in request.GET.lists()
    )


class NulSafeChangelistMixin:
    """Refuse changelist query strings holding a NUL byte, as Django refuses
    lookups it cannot use (a redirect to ``?e=1``, never a server error)."""

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        if has_nul(request):
            raise IncorrectLookupParameters("NUL byte in the query string")
        return super().get_changelist_instance(request)  # type: ignore[misc]
