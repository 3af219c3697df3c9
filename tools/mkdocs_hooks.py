"""MkDocs hooks for the documentation site (``hooks:`` in ``mkdocs.yml``).

The package's docstrings use Sphinx roles (``:func:`revoke_session```), which
mkdocstrings renders as the role's name followed by the code. The site shows
the code alone.
"""

from __future__ import annotations

import re
from typing import Any

ROLE = re.compile(r":(?:func|meth|class|data|attr|mod|exc|obj):(?=<code>)")


def on_page_content(html: str, **kwargs: Any) -> str:
    """Drop Sphinx role prefixes in front of code spans."""
    return ROLE.sub("", html)
