"""Strawberry's view, as /graphql runs it behind its checks (web.graphql).

It takes what the endpoint already knows instead of working it out again: the parsed
POST body (web.json_body), the request's language and its token (from the ASGI scope),
and gives resolvers the runtime and a way to mark the request's log line
(``Context.note_outcome``). Every JSON it reads — the POST body, GET's ``variables`` and
``extensions`` — passes ``load_json``'s checks. The IDE page is mailtab's offline GraphiQL.
"""

from __future__ import annotations

import json
from typing import Any

from cross_web import HTTPException
from strawberry.asgi import GraphQL

from i18n import negotiate
from resolvers.context import Context
from services.runtime import Runtime
from web.graphiql import graphiql_html
from web.json_body import UnusableJson, parsed
from web.requests import note_outcome

__all__ = ["GraphQLView"]


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's view with the request's language, token and the runtime in the context."""

    def __init__(self, runtime: Runtime, schema: Any) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if runtime.settings.graphiql else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=False,
        )
        self.runtime = runtime

    @property
    def graphql_ide_html(self) -> str:
        return graphiql_html()

    def decode_json(self, data: str | bytes) -> object:
        # Every JSON Strawberry reads comes through here: the POST body (checked once already
        # by GraphQLEndpoint) and GET's ``variables`` and ``extensions`` (checked nowhere else).
        try:
            return parsed(data)
        except UnusableJson as exc:
            raise HTTPException(400, str(exc)) from exc
        except UnicodeDecodeError as exc:
            # Strawberry turns only this error into its "not JSON" 400; anything else is a 500.
            raise json.JSONDecodeError("not UTF-8", "", 0) from exc

    async def get_context(self, request: Any, response: Any) -> Context:
        return Context(
            runtime=self.runtime,
            lang=request.scope.get("mailtab.lang")
            or negotiate(request.headers.get("accept-language")),
            token=request.scope.get("mailtab.token"),
            request=request,
            response=response,
            note_outcome=note_outcome,
        )
