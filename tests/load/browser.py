"""A minimal browser over ``http.client``: a cookie jar, a User-Agent, timings.

No redirects are followed (every answer is checked as it is), one connection
per request (gunicorn's sync workers close it anyway), bodies are bytes.
"""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urlencode

SESSION_COOKIE = "sessionid"
CSRF_COOKIE = "csrftoken"


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    elapsed: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class Browser:
    """One client: its cookies persist from response to request."""

    host: str
    port: int
    user_agent: str
    cookies: dict[str, str] = field(default_factory=dict)

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(
        self,
        method: str,
        path: str,
        *,
        form: dict[str, str] | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        raw_cookie: str | None = None,
        csrf: bool = False,
    ) -> Response:
        """Send one request; ``raw_cookie`` replaces the jar for this request."""
        sent = {"User-Agent": self.user_agent, "Host": f"{self.host}:{self.port}"}
        if form is not None:
            body = urlencode(form).encode()
            content_type = "application/x-www-form-urlencoded"
        if content_type:
            sent["Content-Type"] = content_type
        if body is not None:
            sent["Content-Length"] = str(len(body))
        cookie = self.cookie_header() if raw_cookie is None else raw_cookie
        if cookie:
            sent["Cookie"] = cookie
        if csrf and CSRF_COOKIE in self.cookies:
            sent["X-CSRFToken"] = self.cookies[CSRF_COOKIE]
        sent.update(headers or {})
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        started = time.perf_counter()
        try:
            connection.putrequest(
                method, path, skip_host=True, skip_accept_encoding=True
            )
            for name, value in sent.items():
                # Raw bytes, as a browser sends them (the server reads latin-1).
                connection.putheader(name, value.encode("utf-8"))
            connection.endheaders(body)
            answer = connection.getresponse()
            payload = answer.read()
            elapsed = time.perf_counter() - started
            response = Response(answer.status, answer.getheaders(), payload, elapsed)
        finally:
            connection.close()
        if raw_cookie is None:
            self.remember(response)
        return response

    def remember(self, response: Response) -> None:
        for name, value in response.headers:
            if name.lower() != "set-cookie":
                continue
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value)
            except CookieError:
                continue
            for morsel in jar.values():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(morsel.key, None)
                else:
                    self.cookies[morsel.key] = morsel.value
