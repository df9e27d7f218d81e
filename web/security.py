"""Security headers: a strict default for every response, and a policy fitted to GraphiQL.

The GraphiQL page Strawberry renders loads React, GraphiQL and its explorer plugin from
unpkg.com (with Subresource Integrity) and runs one inline script. Its policy allows exactly
that: scripts from unpkg.com plus the hash of that inline script (computed from the page
itself, so it follows Strawberry upgrades), its stylesheets, ``data:`` fonts and images,
and requests to this origin only. It may not be framed, and it sends no Referer (GraphiQL
keeps the query in the page address).
"""

from __future__ import annotations

import base64
import hashlib
import re

__all__ = ["API_HEADERS", "PAGE_HEADERS", "graphiql_policy"]

CDN = "https://unpkg.com"

#: For every response; a page sets its own policy, which is kept.
API_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
}

#: Added to the HTML page, beside ``graphiql_policy``.
PAGE_HEADERS = {
    "cross-origin-opener-policy": "same-origin",
    "cache-control": "no-store",
}

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def graphiql_policy(html: str) -> str:
    """The Content-Security-Policy that lets ``html`` (the GraphiQL page) run, and no more."""
    hashes = " ".join(f"'sha256-{_sha256(s)}'" for s in _INLINE_SCRIPT.findall(html))
    directives = {
        "default-src": "'none'",
        "script-src": f"{CDN} {hashes}".strip(),
        # GraphiQL and CodeMirror set styles at run time; styles cannot run code.
        "style-src": f"{CDN} 'unsafe-inline'",
        "font-src": f"{CDN} data:",
        "img-src": "'self' data:",
        "connect-src": "'self'",
        "frame-ancestors": "'none'",
        "base-uri": "'none'",
        "form-action": "'none'",
        "object-src": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())
