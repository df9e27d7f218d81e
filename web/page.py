"""The Mail tab page at ``/``: the seed's screen for a person, served from files in the package.

- ``GET /``: ``static/index.html`` under ``PAGE_POLICY`` — scripts, styles, images and API
  calls from this origin only, no inline script or style, Trusted Types required (the page
  builds its DOM without HTML strings), no framing, no Referer, not cached.
- ``/static/…``: the page's JavaScript modules and CSS, GraphiQL's vendored files. Nothing
  is built at install time: what is in ``web/static/`` is what the browser gets. The app's
  own files are revalidated on every load (``no-cache``), so an upgrade is seen at once; the
  vendored ones have their version in the path and are cached for good.
- ``GET /features.json``: which of the page's optional API features (smart setup, the SMTP
  steps transcript, OAuth2, provider checklists) this schema has, read from the schema
  itself, so the page offers them when the API grows them — also where introspection is off.
  It names only fields of the published contract the page knows about.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from graphql import GraphQLInputObjectType, GraphQLObjectType, GraphQLSchema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from web.security import PAGE_HEADERS, SELF_ONLY, format_policy

__all__ = ["OPTIONAL_FEATURES", "PAGE_POLICY", "STATIC_DIR", "features_of", "page_routes"]

STATIC_DIR = Path(__file__).resolve().with_name("static")

PAGE_POLICY = format_policy(
    {
        **SELF_ONLY,
        # The page's code never turns a string into HTML or script; the browser holds it to that.
        "require-trusted-types-for": "'script'",
        "trusted-types": "'none'",
    }
)

#: "Type.field" the page looks for before offering what depends on it (SPEC.md §5, §6).
OPTIONAL_FEATURES = (
    "Query.detectMailProvider",
    "Mutation.probeSmtpServer",
    "Mutation.startMailOAuth",
    "Mutation.disconnectMailOAuth",
    "MailProvider.status",
    "MailProvider.checklist",
    "MailProvider.oauth2Available",
    "MailSettings.lastTest",
    "MailSettings.authMethod",
    "MailSettings.oauth",
    "MailSettingsInput.authMethod",
    "SendTestEmailPayload.steps",
)


def features_of(schema: GraphQLSchema) -> list[str]:
    """The ``OPTIONAL_FEATURES`` that ``schema`` has."""
    found = []
    for feature in OPTIONAL_FEATURES:
        type_name, _, field = feature.partition(".")
        graphql_type = schema.get_type(type_name)
        if (
            isinstance(graphql_type, GraphQLObjectType | GraphQLInputObjectType)
            and field in graphql_type.fields
        ):
            found.append(feature)
    return found


class _StaticFiles(StaticFiles):
    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        vendored = Path(full_path).is_relative_to(STATIC_DIR / "vendor")
        response.headers["cache-control"] = (
            "public, max-age=31536000, immutable" if vendored else "no-cache"
        )
        return response


def page_routes(schema: GraphQLSchema) -> list[BaseRoute]:
    """The routes of the page; ``schema`` is the GraphQL schema the API serves."""
    html = (STATIC_DIR / "index.html").read_bytes()
    page_headers = {**PAGE_HEADERS, "content-security-policy": PAGE_POLICY}
    features = {"features": features_of(schema)}

    async def mail_tab(request: Request) -> Response:
        return Response(html, media_type="text/html; charset=utf-8", headers=page_headers)

    async def feature_list(request: Request) -> Response:
        return JSONResponse(features, headers={"cache-control": "no-cache"})

    static: Any = _StaticFiles(directory=STATIC_DIR)
    return [
        Route("/", mail_tab, methods=["GET", "HEAD"]),
        Route("/features.json", feature_list, methods=["GET", "HEAD"]),
        Mount("/static", app=static, name="static"),
    ]
