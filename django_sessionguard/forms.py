"""Forms of the end-user pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


class ReauthenticationForm(forms.Form):
    """The signed-in user confirms their password.

    Checked through the configured authentication backends (as at sign-in),
    so a failure sends ``user_login_failed`` and lockout tools see it.
    """

    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_messages = {
        "invalid_password": _("That password is not correct. Please try again."),
    }

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        self.request = request
        self.user = request.user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        user = authenticate(
            self.request, username=self.user.get_username(), password=password
        )
        if user is None or user.pk != self.user.pk:
            raise forms.ValidationError(
                self.error_messages["invalid_password"], code="invalid_password"
            )
        return password
