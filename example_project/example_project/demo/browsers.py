"""The demo's devices, and a browser that uses the site as a person would.

A :class:`Browser` is Django's test client with a device's User-Agent, its
``Accept`` header and an IP address. It signs in through the login page, browses
and signs out, so each session, its device and address, its activity and its
events are recorded by the middleware and the session engine themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils.translation import gettext as _

from example_project.demo.accounts import DemoAccount

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
JSON = "application/json"


@dataclass(frozen=True)
class Device:
    name: str
    user_agent: str
    accept: str = HTML


WINDOWS_CHROME = Device(
    "Chrome on Windows",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
)
WINDOWS_FIREFOX = Device(
    "Firefox on Windows",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
)
WINDOWS_EDGE = Device(
    "Edge on Windows",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
)
UBUNTU_FIREFOX = Device(
    "Firefox on Ubuntu",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
)
MAC_SAFARI = Device(
    "Safari on a Mac",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
)
IPHONE_SAFARI = Device(
    "Safari on an iPhone",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
)
IPAD_SAFARI = Device(
    "Safari on an iPad",
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
)
ANDROID_FIREFOX = Device(
    "Firefox on Android",
    "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
)
ANDROID_CHROME = Device(
    "Chrome on Android",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
)
CURL = Device("curl", "curl/8.5.0", accept=JSON)
#: A crawler: parsed as device type "bot" (curl, a script, is "other").
GOOGLEBOT = Device(
    "Googlebot",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
)


def demo_host() -> str:
    """A host name the site accepts (the first of ``ALLOWED_HOSTS``)."""
    for host in settings.ALLOWED_HOSTS:
        if host and host != "*":
            return host.lstrip(".")
    return "localhost"


class Browser:
    """One device of one person, on the real request path."""

    def __init__(self, device: Device, ip: str) -> None:
        self.device = device
        self.client = Client(
            HTTP_USER_AGENT=device.user_agent,
            HTTP_ACCEPT=device.accept,
            REMOTE_ADDR=ip,
            HTTP_HOST=demo_host(),
        )

    def move_to(self, ip: str) -> None:
        """The device is now on another network (a new ``REMOTE_ADDR``)."""
        self.client.defaults["REMOTE_ADDR"] = ip

    def _expect(self, response: Any, status: int, what: str) -> Any:
        if response.status_code != status:
            raise CommandError(
                _("%(device)s: %(what)s answered %(got)d, expected %(expected)d.")
                % {
                    "device": self.device.name,
                    "what": what,
                    "got": response.status_code,
                    "expected": status,
                }
            )
        return response

    def get(self, path: str, status: int = 200) -> Any:
        return self._expect(self.client.get(path, secure=True), status, path)

    def sign_in(self, account: DemoAccount) -> None:
        """Through the login page: a form post, answered with a redirect."""
        response = self.client.post(
            reverse("login"),
            {"username": account.username, "password": account.password},
            secure=True,
        )
        self._expect(response, 302, _("signing in as %s") % account.username)

    def sign_out(self) -> None:
        self._expect(
            self.client.post(reverse("logout"), secure=True), 302, _("signing out")
        )

    def reference(self) -> str:
        """This session's public reference, as the JSON API reports it."""
        response = self.client.get(
            reverse("sessionguard:api-list"), secure=True, HTTP_ACCEPT=JSON
        )
        sessions = self._expect(response, 200, _("the sessions API")).json()
        return str(next(s["reference"] for s in sessions["sessions"] if s["current"]))
