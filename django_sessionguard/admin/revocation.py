"""Revoking from the admin: two bulk actions, one session, all of one user's.

Every path asks for confirmation on a page of its own (with an optional
reason, recorded in the audit trail), then calls the revocation services
with the staff member as actor, so events read ``revoked_staff`` and name who
did it. Every path needs ``django_sessionguard.revoke_session``: without it the
actions are not offered, and posting to them anyway is answered with 403.
When the session cache cannot be reached nothing is revoked and the staff
member gets a 503 page saying so (``docs/faults.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from django_sessionguard.faults import RETRY_AFTER, SessionCacheUnavailable
from django_sessionguard.keys import is_reference
from django_sessionguard.models import Session
from django_sessionguard.services import end_sessions, revoke_all_sessions

if TYPE_CHECKING:
    from django_sessionguard.admin.sessions import SessionAdmin

#: The action names a POST may carry that need the revoke permission.
REVOKE_ACTIONS = frozenset({"revoke_selected", "revoke_users"})
#: Sessions (or users) listed by name on a confirmation page; the rest are counted.
LISTED = 20
TEMPLATE = "admin/django_sessionguard/session/revoke_confirmation.html"
UNAVAILABLE_TEMPLATE = "admin/django_sessionguard/session/revoke_unavailable.html"


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        required=False,
        help_text=_("Optional. Recorded in the audit trail with your name."),
        widget=forms.TextInput(attrs={"size": 60, "autocomplete": "off"}),
    )


def posts_revocation(request: HttpRequest) -> bool:
    """Whether a changelist POST asks for one of the revoke actions."""
    return bool(REVOKE_ACTIONS.intersection(request.POST.getlist("action")))


def confirmed(request: HttpRequest) -> bool:
    # The same marker Django's own delete confirmation posts.
    return request.method == "POST" and request.POST.get("post") == "yes"


def revoked_message(count: int) -> str:
    return ngettext(
        "Revoked %(count)d session.", "Revoked %(count)d sessions.", count
    ) % {"count": count}


def listed_sessions(sessions: QuerySet[Any]) -> list[Any]:
    return list(
        sessions.select_related("user")
        .defer("session_data")
        .order_by("-last_activity")[:LISTED]
    )


# -- the bulk actions ------------------------------------------------------------


@admin.action(description=_("Revoke selected sessions"), permissions=["revoke"])
def revoke_selected(
    modeladmin: SessionAdmin, request: HttpRequest, queryset: QuerySet[Any]
) -> HttpResponse | None:
    sessions: QuerySet[Any] = Session.objects.filter(
        pk__in=queryset.order_by().values("pk")
    )
    form = RevokeForm(request.POST if confirmed(request) else None)
    if form.is_bound and form.is_valid():
        try:
            count = end_sessions(
                sessions, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except SessionCacheUnavailable:
            return unavailable_response(modeladmin, request)
        modeladmin.message_user(request, revoked_message(count), messages.SUCCESS)
        return None
    count = sessions.count()
    return action_confirmation(
        modeladmin,
        request,
        action="revoke_selected",
        title=_("Revoke sessions"),
        question=ngettext(
            "This session will end now: its browser is signed out on its next request.",
            "These %(count)d sessions will end now: their browsers are signed out "
            "on their next request.",
            count,
        )
        % {"count": count},
        sessions=listed_sessions(sessions),
        count=count,
        form=form,
    )


@admin.action(
    description=_("Revoke all sessions of the selected sessions' users"),
    permissions=["revoke"],
)
def revoke_users(
    modeladmin: SessionAdmin, request: HttpRequest, queryset: QuerySet[Any]
) -> HttpResponse | None:
    selected = queryset.order_by().values("pk")
    user_ids = queryset.order_by().filter(user__isnull=False).values("user")
    # The selected sessions themselves end too, anonymous ones included.
    sessions: QuerySet[Any] = Session.objects.filter(
        Q(user__in=user_ids) | Q(pk__in=selected)
    )
    form = RevokeForm(request.POST if confirmed(request) else None)
    if form.is_bound and form.is_valid():
        try:
            count = end_sessions(
                sessions, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except SessionCacheUnavailable:
            return unavailable_response(modeladmin, request)
        modeladmin.message_user(request, revoked_message(count), messages.SUCCESS)
        return None
    count = sessions.count()
    users = list(
        get_user_model()
        ._default_manager.filter(pk__in=user_ids)
        .order_by("pk")[:LISTED]
    )
    per_user = dict(
        Session.objects.filter(user__in=users)
        .values_list("user")
        .annotate(n=Count("pk"))
        .order_by()
    )
    user_count = get_user_model()._default_manager.filter(pk__in=user_ids).count()
    chosen = listed_sessions(Session.objects.filter(pk__in=selected))
    sessions_text = ngettext("%(n)d session", "%(n)d sessions", count) % {"n": count}
    if user_count:
        question = ngettext(
            "Every session of this user will end now (%(sessions)s).",
            "Every session of these %(count)d users will end now (%(sessions)s).",
            user_count,
        ) % {"count": user_count, "sessions": sessions_text}
    else:
        question = ngettext(
            "This anonymous session will end now.",
            "These %(count)d anonymous sessions will end now.",
            count,
        ) % {"count": count}
    return action_confirmation(
        modeladmin,
        request,
        action="revoke_users",
        title=_("Revoke all sessions of these users"),
        question=question,
        users=[(user, per_user.get(user.pk, 0)) for user in users],
        user_count=user_count,
        sessions=[] if user_count else chosen,
        count=count,
        form=form,
        selected_sessions=chosen,
    )


def action_confirmation(
    modeladmin: SessionAdmin,
    request: HttpRequest,
    *,
    action: str,
    form: RevokeForm,
    **context: Any,
) -> TemplateResponse:
    """The confirmation page of a bulk action; it posts back to the changelist.

    The hidden fields carry references, never the primary keys Django's
    action machinery works with.
    """
    select_across = request.POST.get("select_across") == "1"
    references = [
        session.reference
        for session in context.get("selected_sessions") or context["sessions"]
    ]
    hidden = [("action", action), ("select_across", "1" if select_across else "0")]
    hidden += [(helpers.ACTION_CHECKBOX_NAME, ref) for ref in references]
    return render_confirmation(
        modeladmin,
        request,
        form=form,
        hidden=hidden,
        cancel_url=request.get_full_path(),
        select_across=select_across,
        **context,
    )


def render_confirmation(
    modeladmin: SessionAdmin,
    request: HttpRequest,
    **context: Any,
) -> TemplateResponse:
    opts = modeladmin.opts
    context.setdefault("sessions", [])
    context.setdefault("hidden", [])
    context["more"] = max(0, context["count"] - len(context["sessions"]))
    if "user_count" in context:
        context["more_users"] = max(0, context["user_count"] - len(context["users"]))
    return TemplateResponse(
        request,
        TEMPLATE,
        {
            **modeladmin.admin_site.each_context(request),
            "opts": opts,
            "app_label": opts.app_label,
            "media": modeladmin.media + context["form"].media,
            "changelist_url": modeladmin.url("changelist"),
            **context,
        },
    )


def unavailable_response(
    modeladmin: SessionAdmin, request: HttpRequest
) -> TemplateResponse:
    """503 in the admin's own look: the session cache is down, nothing was revoked."""
    opts = modeladmin.opts
    return TemplateResponse(
        request,
        UNAVAILABLE_TEMPLATE,
        {
            **modeladmin.admin_site.each_context(request),
            "opts": opts,
            "app_label": opts.app_label,
            "title": _("Sessions were not revoked"),
            "message": _(
                "The session cache cannot be reached, so no session was revoked "
                "and nothing was recorded. Please try again in a moment."
            ),
            "changelist_url": modeladmin.url("changelist"),
        },
        status=503,
        headers={"Retry-After": str(RETRY_AFTER), "Cache-Control": "no-store"},
    )


# -- the single-object pages -----------------------------------------------------


def check_revoke_permission(modeladmin: SessionAdmin, request: HttpRequest) -> None:
    if not modeladmin.has_revoke_permission(request):
        raise PermissionDenied


def revoke_session_view(
    modeladmin: SessionAdmin, request: HttpRequest, reference: str
) -> HttpResponse:
    """Confirm, then revoke one session (from its admin page)."""
    check_revoke_permission(modeladmin, request)
    if not is_reference(reference):
        raise Http404
    sessions: QuerySet[Any] = Session.objects.filter(reference=reference)
    session = listed_sessions(sessions)
    if not session:
        raise Http404
    form = RevokeForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            count = end_sessions(
                sessions, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except SessionCacheUnavailable:
            return unavailable_response(modeladmin, request)
        modeladmin.message_user(request, revoked_message(count), messages.SUCCESS)
        return HttpResponseRedirect(modeladmin.url("changelist"))
    return render_confirmation(
        modeladmin,
        request,
        title=_("Revoke this session"),
        question=_(
            "This session will end now: its browser is signed out on its next request."
        ),
        sessions=session,
        count=1,
        form=form,
        cancel_url=modeladmin.url("change", reference),
    )


def revoke_user_view(
    modeladmin: SessionAdmin, request: HttpRequest, user_id: str
) -> HttpResponse:
    """Confirm, then revoke every session of one user (from the user's page)."""
    from django_sessionguard.admin.display import user_admin_url

    check_revoke_permission(modeladmin, request)
    user_model = get_user_model()
    try:
        pk = user_model._meta.pk.to_python(user_id)
        user = user_model._default_manager.get(pk=pk)
    except (ValidationError, ValueError, user_model.DoesNotExist):
        raise Http404 from None
    user_url = user_admin_url(modeladmin.admin_site, user.pk)
    back = user_url or (
        f"{modeladmin.url('changelist')}?{urlencode({'user': user.pk})}"
    )
    form = RevokeForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        reason = form.cleaned_data["reason"]
        try:
            count = revoke_all_sessions(user, actor=request.user, reason=reason)
        except SessionCacheUnavailable:
            return unavailable_response(modeladmin, request)
        message = revoked_message(count)
        if user_url is not None:
            modeladmin.log_change(request, user, message)
        modeladmin.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(back)
    # What will be revoked: the live sessions (the user's page lists those;
    # sessions already past a timeout end too, recorded as expired).
    sessions = Session.objects.live(user=user)
    count = sessions.count()
    return render_confirmation(
        modeladmin,
        request,
        title=_("Revoke all sessions of %(user)s") % {"user": user.get_username()},
        question=ngettext(
            "This session of %(user)s will end now.",
            "These %(count)d sessions of %(user)s will end now.",
            count,
        )
        % {"count": count, "user": user.get_username()},
        sessions=listed_sessions(sessions),
        count=count,
        form=form,
        cancel_url=back,
        target_user=user,
    )
