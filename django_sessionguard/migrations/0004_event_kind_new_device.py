"""Add the ``new_device`` and ``new_device_reported`` event kinds (choices only)."""

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("django_sessionguard", "0003_event_kind_key_guessing"),
    ]

    operations = [
        migrations.AlterField(
            model_name="sessionevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("created", "Session created"),
                    ("login", "Signed in"),
                    ("logout", "Signed out"),
                    ("expired_idle", "Expired (inactivity)"),
                    ("expired_absolute", "Expired (maximum duration)"),
                    ("revoked_user", "Revoked by the user"),
                    ("revoked_staff", "Revoked by staff"),
                    ("revoked_system", "Revoked by the system"),
                    ("evicted", "Evicted by the session limit"),
                    ("login_denied", "Sign-in denied by the session limit"),
                    ("ip_changed", "IP address changed"),
                    ("ua_changed", "Browser changed"),
                    ("password_changed", "Password changed"),
                    ("key_guessing", "Session-key guessing suspected"),
                    ("new_device", "Signed in from a new device"),
                    (
                        "new_device_reported",
                        "New-device sign-in reported: signed out everywhere",
                    ),
                ],
                max_length=32,
                verbose_name="event",
            ),
        ),
    ]
