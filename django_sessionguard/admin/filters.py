"""List filters of the sessions and events admins.

Every filter here costs at most one small query to build its choices, whatever
the size of the table: the browser and OS families come from a cached list,
and the user filters show only the chosen user.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Count, Model, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

#: Seconds the list of browser / OS families offered as filters is kept.
FAMILY_CACHE_SECONDS = 300
#: Most families offered by one filter (the most common ones).
FAMILY_LIMIT = 30
#: Most recently active sessions whose families are offered.
FAMILY_SAMPLE = 10_000


class StatusFilter(admin.SimpleListFilter):
    """Active: live (``SessionQuerySet.live``); expired: everything else.

    Many users' sessions at once, so a timeout configured as a per-user
    callable is not applied here (see :mod:`django_sessionguard.liveness`).
    """

    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("active", _("Active")), ("expired", _("Expired"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        if self.value() == "active":
            return queryset.live()  # type: ignore[attr-defined]
        if self.value() == "expired":
            return queryset.dead()  # type: ignore[attr-defined]
        return queryset


class AuthenticatedFilter(admin.SimpleListFilter):
    title = _("authentication")
    parameter_name = "authenticated"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Signed in")), ("no", _("Anonymous"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        if self.value() == "yes":
            return queryset.filter(user__isnull=False)
        if self.value() == "no":
            return queryset.filter(user__isnull=True)
        return queryset


def family_choices(model: type[Model], field: str) -> list[str]:
    """The browser or OS families (``field``) of recently active sessions.

    Counted over the :data:`FAMILY_SAMPLE` most recently active sessions (what
    is in use now), not the whole table, so building the list costs two
    indexed queries whatever the table size; both families are counted at
    once and kept :data:`FAMILY_CACHE_SECONDS` in the default cache. A family
    missing from the list can still be filtered on through the URL.
    """
    key = f"sessionguard:admin:families:{model._meta.label_lower}"
    families: dict[str, list[str]] | None = cache.get(key)
    if families is None:
        families = _count_families(model)
        cache.set(key, families, FAMILY_CACHE_SECONDS)
    return families.get(field, [])


def _count_families(model: type[Model]) -> dict[str, list[str]]:
    manager = model._default_manager
    sample = manager.order_by("-last_activity").values_list("last_activity", flat=True)[
        FAMILY_SAMPLE - 1 : FAMILY_SAMPLE
    ]
    recent = manager.all()
    threshold = next(iter(sample), None)
    if threshold is not None:
        recent = recent.filter(last_activity__gte=threshold)
    counts: dict[str, Counter[str]] = {"browser": Counter(), "os": Counter()}
    for browser, os, n in (
        recent.order_by().values_list("browser", "os").annotate(n=Count("*"))
    ):
        counts["browser"][browser] += n
        counts["os"][os] += n
    return {
        field: sorted(
            value for value, _n in counter.most_common(FAMILY_LIMIT + 1) if value
        )[:FAMILY_LIMIT]
        for field, counter in counts.items()
    }


class FamilyFilter(admin.SimpleListFilter):
    """Filter on a browser or OS family (``field``), offering the common ones."""

    field = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        values = family_choices(model_admin.model, self.field)
        chosen = self.value()
        if chosen and chosen not in values:
            values = sorted([*values, chosen])
        return [(value, value) for value in values]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        if self.value():
            return queryset.filter(**{self.field: self.value()})
        return queryset


class BrowserFilter(FamilyFilter):
    title = _("browser")
    parameter_name = field = "browser"


class OSFilter(FamilyFilter):
    title = _("operating system")
    parameter_name = field = "os"


class UserFilter(admin.SimpleListFilter):
    """``?user=<pk>``: one user's rows. Offers only the chosen user.

    Links to it come from the rows themselves and from the user admin; listing
    every user as a choice would not scale.
    """

    title = _("user")
    parameter_name = "user"
    field = "user"

    def chosen_user(self) -> Any:
        """The user named by the parameter (looked up once), or ``None``."""
        if not hasattr(self, "_chosen_user"):
            self._chosen_user = self._find_user(self.value())
        return self._chosen_user

    @staticmethod
    def _find_user(value: str | None) -> Any:
        if not value:
            return None
        user_model = get_user_model()
        try:
            pk = user_model._meta.pk.to_python(value)
            return user_model._default_manager.get(pk=pk)
        except (ValidationError, ValueError, user_model.DoesNotExist):
            return None

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        value = self.value()
        if not value:
            return []  # not shown until a row or the user page links to it
        user = self.chosen_user()
        if user is None:
            return [(value, gettext("Unknown user"))]
        return [(str(user.pk), user.get_username())]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        if not self.value():
            return queryset
        user = self.chosen_user()
        if user is None:
            return queryset.none()
        return queryset.filter(**{self.field: user})


def has_staff_flag(user_model: type[Model]) -> bool:
    """Whether the user model has Django's ``is_staff`` field."""
    return any(field.name == "is_staff" for field in user_model._meta.get_fields())


class ActorFilter(admin.SimpleListFilter):
    """Who acted: nobody (the system), any staff member, or one staff member."""

    title = _("actor")
    parameter_name = "actor"
    #: Staff members offered by name, at most.
    staff_limit = 30

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        choices: list[tuple[str, Any]] = [("none", _("Nobody (the system)"))]
        user_model = get_user_model()
        if has_staff_flag(user_model):
            choices.append(("staff", _("Any staff member")))
            staff = user_model._default_manager.filter(is_staff=True).order_by(
                user_model.USERNAME_FIELD
            )[: self.staff_limit]
            choices.extend((str(user.pk), user.get_username()) for user in staff)
        return choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        value = self.value()
        if not value:
            return queryset
        if value == "none":
            return queryset.filter(actor__isnull=True)
        if value == "staff" and has_staff_flag(get_user_model()):
            return queryset.filter(actor__is_staff=True)
        user_model = get_user_model()
        try:
            pk = user_model._meta.pk.to_python(value)
        except ValidationError:
            return queryset.none()
        return queryset.filter(Q(actor=pk))
