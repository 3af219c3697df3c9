"""What the property-based tests share: settings, isolation, and hostile strings.

No tests of its own. Each property runs its examples inside one pytest test
(fixtures are set up once per test, not per example), so examples that write
run inside :func:`rolled_back`, and every example starts from the same rows.
"""

from __future__ import annotations

import os
import string
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from html.parser import HTMLParser
from typing import TypeVar
from urllib.parse import quote

from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: Statuses a hostile request may get; anything else (a 500 above all) fails.
CLIENT_ERRORS = frozenset({400, 403, 404, 405})

#: Payloads that try to break out of HTML text, attributes, templates, headers.
INJECTIONS = (
    "<script>alert(1)</script>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "</title></textarea><script>alert(1)</script>",
    "<svg/onload=alert(1)>",
    "<iframe src=javascript:alert(1)>",
    "{{ request.META }}{% debug %}",
    "\r\nSet-Cookie: sessionid=stolen\r\n\r\n",
    "<!--",
    "]]>",
    "%3Cscript%3E",
)

KEY_ALPHABET = string.ascii_lowercase + string.digits

T = TypeVar("T")


def examples(default: int) -> int:
    """``default``, or ``SESSIONGUARD_FUZZ_EXAMPLES`` when that is larger."""
    deep = os.environ.get("SESSIONGUARD_FUZZ_EXAMPLES", "")
    return max(default, int(deep)) if deep.isdigit() else default


def fuzzing(default_examples: int) -> settings:
    """The hypothesis settings of one property.

    No deadline (the machine is shared and slow), fixtures shared by the
    examples of one test (they are reset per example where it matters), and
    no example database: nothing is written into the work tree, and a failure
    prints the blob that reproduces it.
    """
    return settings(
        max_examples=examples(default_examples),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
        database=None,
        print_blob=True,
    )


@contextmanager
def rolled_back() -> Iterator[None]:
    """Run one example's writes in a transaction that is always rolled back."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


class _Markup(HTMLParser):
    """Counts elements, event-handler attributes and ``javascript:`` URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: Counter[str] = Counter()
        self.svg_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.svg_depth:  # an inline icon's shapes vary with the device type
            self.svg_depth += tag == "svg"
            return
        self.found[f"<{tag}>"] += 1
        self.svg_depth += tag == "svg"
        for name, value in attrs:
            if name.startswith("on"):
                self.found[f"{name}="] += 1
            if value and value.strip().lower().startswith("javascript:"):
                self.found["javascript:"] += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.svg_depth:
            self.handle_starttag(tag, attrs)
            self.svg_depth -= tag == "svg"

    def handle_endtag(self, tag: str) -> None:
        if self.svg_depth and tag == "svg":
            self.svg_depth -= 1


def markup(html: str) -> Counter[str]:
    """The page's elements (``"<div>": 12``), ``on…=`` handlers and
    ``javascript:`` URLs, outside inline SVG icons.

    A page rendered with a hostile string must have exactly the markup of the
    same page rendered with a harmless one: a client-controlled string that
    adds an element or an attribute is an injection.
    """
    parser = _Markup()
    parser.feed(html)
    parser.close()
    return parser.found


# -- sending any text ------------------------------------------------------------


def url_text(text: str) -> str:
    """``text`` percent-encoded for a URL or a form, as any client may send it:
    lone surrogates become the invalid UTF-8 bytes a hostile client can send."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def as_received(text: str) -> str:
    """What Django decodes from :func:`url_text` (invalid UTF-8 replaced)."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def form_body(fields: Mapping[str, str | Sequence[str]]) -> str:
    """An ``application/x-www-form-urlencoded`` body of any text."""
    return "&".join(
        f"{url_text(name)}={url_text(value)}"
        for name, values in fields.items()
        for value in ([values] if isinstance(values, str) else values)
    )


# -- strategies -----------------------------------------------------------------

#: Any code point at all: controls, NUL, lone surrogates, private use, bidi.
any_char = st.characters()
any_text = st.text(any_char, max_size=200)
#: What a real server can hand Django in a header (bytes decoded as latin-1).
latin1_text = st.text(st.characters(max_codepoint=0xFF), max_size=200)


def mostly(
    common: st.SearchStrategy[T], rare: st.SearchStrategy[T], weight: int = 3
) -> st.SearchStrategy[T]:
    """``common`` about ``weight`` times as often as ``rare``.

    (``st.one_of(a, a, a, b)`` does not do that: equal branches collapse.)
    """
    return st.sampled_from([True] * weight + [False]).flatmap(
        lambda pick: common if pick else rare
    )


def repeated(
    pieces: st.SearchStrategy[str], low: int, high: int
) -> st.SearchStrategy[str]:
    """A piece repeated ``low``..``high`` times: huge values, cheaply generated."""
    return st.builds(
        lambda piece, times: piece * times,
        pieces.filter(bool),
        st.integers(min_value=low, max_value=high),
    )


huge_text = repeated(st.text(any_char, min_size=1, max_size=12), 300, 2_000)


def with_injection(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """``text`` with one of the :data:`INJECTIONS` spliced into it."""
    return st.builds(
        lambda head, payload, tail: head + payload + tail,
        text,
        st.sampled_from(INJECTIONS),
        text,
    )


#: Values that have broken parsers and databases before.
NASTY_VALUES = (
    "\x00",
    "a\x00b",
    "\ud800",
    "'",
    '"',
    "\\",
    "../",
    "-1",
    "0",
    "9" * 30,
    "1e309",
    "NaN",
    "null",
    "2001:db8::/32",
    "203.0.113.",
    "%",
    "_",
    "x" * 5_000,
)

hostile_text = st.one_of(
    st.sampled_from(NASTY_VALUES),
    any_text,
    latin1_text,
    huge_text,
    with_injection(st.text(any_char, max_size=30)),
)
