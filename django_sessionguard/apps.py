from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SessionGuardConfig(AppConfig):
    name = "django_sessionguard"
    verbose_name = _("Sessions")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django_sessionguard import (  # noqa: F401  (registers checks)
            checks,
            cookie_checks,
            isolation_checks,
            receivers,
            template_checks,
        )

        receivers.connect()
