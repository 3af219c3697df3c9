"""Class-based view mixins."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponseBase

from django_sessionguard.decorators import reauth_response, recent_login_check


class RecentLoginRequiredMixin:
    """Require a password entered within :attr:`reauth_max_age` seconds.

    The class-based twin of
    :func:`~django_sessionguard.decorators.recent_login_required`; put it
    first among the bases. ``None`` uses ``SESSIONGUARD_REAUTH_MAX_AGE``.
    """

    reauth_max_age: int | None = None

    def get_reauth_max_age(self) -> int | None:
        return self.reauth_max_age

    def dispatch(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        signed_in = recent_login_check(request, self.get_reauth_max_age())
        if signed_in is not None:
            return reauth_response(request, authenticated=signed_in)
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc,no-any-return]
