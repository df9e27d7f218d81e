"""Security headers: a strict default for every response, and the policies of the two pages.

Both pages — the Mail tab at ``/`` (``web.page``) and GraphiQL at ``/graphql``
(``web.graphiql``) — load every script, style and image from this origin, have no inline
script and talk to this origin only (``SELF_ONLY``). GraphiQL's stylesheet carries its fonts
and icons as ``data:`` URLs, which its policy adds; should its page ever hold an inline
script, the policy allows exactly that script by its hash. Neither page may be framed, and
neither sends a Referer (GraphiQL keeps the query in the page address).
"""

from __future__ import annotations

import base64
import hashlib
import re

__all__ = ["API_HEADERS", "PAGE_HEADERS", "SELF_ONLY", "format_policy", "graphiql_policy"]

#: For every response; a page sets its own policy, which is kept.
API_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
}

#: Added to the HTML pages, beside their Content-Security-Policy.
PAGE_HEADERS = {
    "cross-origin-opener-policy": "same-origin",
    "cache-control": "no-store",
}

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


#: A page's policy: its own files and API from this origin, nothing else, no inline code.
SELF_ONLY = {
    "default-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "font-src": "'self'",
    "connect-src": "'self'",
    "manifest-src": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "form-action": "'none'",
    "object-src": "'none'",
}


def format_policy(directives: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def graphiql_policy(html: str) -> str:
    """The Content-Security-Policy that lets ``html`` (the GraphiQL page) run, and no more."""
    hashes = " ".join(f"'sha256-{_sha256(s)}'" for s in _INLINE_SCRIPT.findall(html))
    return format_policy(
        {
            **SELF_ONLY,
            "script-src": f"'self' {hashes}".strip(),
            # graphiql.min.css embeds its fonts and icons.
            "img-src": "'self' data:",
            "font-src": "'self' data:",
        }
    )
