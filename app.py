"""The ASGI application: ``create_app(settings)`` wires the ORM, GraphQL and health routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from tortoise.contrib.starlette import RegisterTortoise

from config import Settings, load_settings
from i18n import Text, negotiate
from models.db import tortoise_config
from resolvers.context import Context
from schema import build_schema
from services.runtime import Runtime, build_runtime
from services.tokens import authenticate

__all__ = ["app_from_environment", "create_app"]

UNAUTHENTICATED = Text(
    ru="Нужен действующий токен доступа: заголовок «Authorization: Bearer <токен>».",
    en="A valid access token is required: header 'Authorization: Bearer <token>'.",
)


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's view with the request's language, token and the runtime in the context."""

    def __init__(self, runtime: Runtime) -> None:
        settings = runtime.settings
        super().__init__(
            build_schema(),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
        )
        self.runtime = runtime

    async def get_context(self, request: Any, response: Any) -> Context:
        return Context(
            runtime=self.runtime,
            lang=negotiate(request.headers.get("accept-language")),
            token=request.scope.get("mailtab.token"),
            request=request,
            response=response,
        )


class GraphQLEndpoint:
    """Bearer-token gate in front of the GraphQL view; the GraphiQL page itself is open."""

    def __init__(self, view: GraphQLView) -> None:
        self.view = view

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if not self._is_ide_page(request):
            token = await self._token(request)
            if token is None:
                lang = negotiate(request.headers.get("accept-language"))
                response = JSONResponse(
                    {
                        "data": None,
                        "errors": [
                            {
                                "message": UNAUTHENTICATED(lang),
                                "extensions": {"code": "UNAUTHENTICATED"},
                            }
                        ],
                    },
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer realm="mailtab"'},
                )
                await response(scope, receive, send)
                return
            scope["mailtab.token"] = token
        await self.view(scope, receive, send)

    def _is_ide_page(self, request: Request) -> bool:
        return (
            request.method == "GET"
            and self.view.graphql_ide is not None
            and "text/html" in request.headers.get("accept", "")
            and "query" not in request.query_params
        )

    @staticmethod
    async def _token(request: Request) -> Any:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            return None
        return await authenticate(credentials.strip())


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


def create_app(settings: Settings) -> Starlette:
    runtime = build_runtime(settings)
    view = GraphQLView(runtime)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with RegisterTortoise(
            app, config=tortoise_config(settings.db_url, pool_timeout=settings.db_timeout)
        ):
            yield

    app = Starlette(
        routes=[
            Route("/graphql", GraphQLEndpoint(view), methods=["GET", "POST"]),
            Route("/healthz", healthz),
        ],
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    return app


def app_from_environment() -> Starlette:
    """The app for ``uvicorn --factory``: settings from the ``MAILTAB_*`` environment."""
    return create_app(load_settings())
