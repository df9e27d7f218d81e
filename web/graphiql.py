"""The GraphiQL page at /graphql, served whole by mailtab: it works with no internet access.

Strawberry's own page loads React, GraphiQL and the explorer plugin from a CDN and starts
them with an inline script; in a closed network it stays a blank "Loading…". This page loads
the same pinned files from ``web/static/vendor/`` (fetched by ``scripts/vendor_graphiql.py``,
with their licences, versions and hashes in ``MANIFEST.json``) and starts them from
``static/graphiql/init.js``: no inline script, so its policy (``web.security.graphiql_policy``)
allows scripts and styles from this origin only.
"""

from __future__ import annotations

from functools import cache

from web.page import STATIC_DIR

__all__ = ["graphiql_html"]


@cache
def graphiql_html() -> str:
    """The page's HTML; its asset links are relative, so a path prefix in front works too."""
    return (STATIC_DIR / "graphiql.html").read_text("utf-8")
