"""The ASGI application: ``create_app(settings)`` wires the ORM, GraphQL and the probes.

Routes: ``/`` (the Mail tab page and its files, see ``web.page``), ``/graphql`` (GraphiQL
page and the API, see ``web.graphql``), ``/healthz`` and ``/readyz`` (``web.health``),
``/metrics`` (``web.metrics``), ``/oauth/callback`` (``web.oauth_callback``). Every request passes
``web.middleware.RequestObserver`` (log line, metrics, security headers), then CORS when
origins are configured.

The database is not touched at start-up: Tortoise opens its pool on the first query. So
the service starts while PostgreSQL is down, answers ``SERVICE_UNAVAILABLE`` and reports
not-ready until it is back, then recovers on its own, without a restart.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route
from tortoise.contrib.starlette import RegisterTortoise

from config import Settings, load_settings
from models.db import check_sqlite_file, tortoise_config
from schema.root import build_schema
from services.runtime import Runtime, build_runtime
from services.token_cache import CACHE as TOKEN_CACHE
from services.token_cache import revocation_listener
from web.error_policy import SafeSchema
from web.extensions import schema_extensions
from web.graphql import GraphQLEndpoint
from web.health import healthz, readiness
from web.logs import configure_logging
from web.metrics import metrics_endpoint
from web.middleware import RequestObserver
from web.oauth_callback import oauth_callback_route
from web.page import page_routes
from web.view import GraphQLView

if TYPE_CHECKING:
    from notifications.worker import Worker

__all__ = ["app_from_environment", "create_app"]

log = logging.getLogger("mailtab")


def create_app(settings: Settings, *, delivery_worker: bool = False) -> Starlette:
    """The app; ``delivery_worker`` also runs one notification worker in its lifespan."""
    runtime = build_runtime(settings)
    TOKEN_CACHE.configure(seconds=settings.token_cache_seconds)
    schema = build_schema(schema_extensions(settings), schema_class=SafeSchema)
    view = GraphQLView(runtime, schema)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        config = tortoise_config(settings.db_url, pool_timeout=settings.db_timeout)
        redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
        async with RegisterTortoise(app, config=config), revocation_listener(redis_url):
            log.info("mailtab started")
            worker_task = _start_worker(settings, runtime) if delivery_worker else None
            after_start()
            yield
            if worker_task is not None:
                await _stop_worker(*worker_task)
        await runtime.limiter.close()
        # The server has let in-flight requests finish (up to its graceful-shutdown
        # timeout) before the lifespan ends; the pool is closed by now.
        log.info("mailtab stopped: requests finished, database connections closed")

    middleware = [Middleware(RequestObserver)]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "Accept-Language", "X-Request-ID"],
                expose_headers=["X-Request-ID", "Retry-After"],
                # Bearer tokens travel in a header, never in cookies: no credentials mode.
                allow_credentials=False,
                max_age=600,
            )
        )
    app = Starlette(
        routes=[
            Route("/graphql", GraphQLEndpoint(view, settings)),
            Route("/healthz", healthz),
            Route("/readyz", readiness(settings)),
            Route("/metrics", metrics_endpoint),
            *page_routes(schema._schema),
            oauth_callback_route(runtime),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    return app


def _start_worker(settings: Settings, runtime: Runtime) -> tuple[Worker, asyncio.Task[None]]:
    from notifications.worker import Worker

    worker = Worker(settings=settings, presets=runtime.presets, box=runtime.box, oauth=runtime)
    return worker, asyncio.create_task(worker.run(), name="notification-worker")


async def _stop_worker(worker: Worker, task: asyncio.Task[None]) -> None:
    # The server has stopped taking requests: the letter in flight ends, the rest go back.
    worker.stop()
    await task


def after_start() -> None:
    """What start-up left behind is kept out of the garbage collector's way.

    Objects alive now (modules, the schema, the presets) live as long as the process:
    ``gc.freeze`` moves them out of the generations the collector walks, so the full
    collections that requests trigger no longer pause on them.
    """
    gc.collect()
    gc.freeze()


def app_from_environment() -> Starlette:
    """The app for ``uvicorn --factory``: settings from the ``MAILTAB_*`` environment.

    An SQLite file that cannot be written stops the start here, naming the path: opened by
    Tortoise, it would leave every request waiting (see ``models.db.check_connection``).
    """
    settings = load_settings()
    configure_logging(settings)
    check_sqlite_file(settings.db_url)
    # On the embedded SQLite default the server delivers notifications itself (one worker);
    # on PostgreSQL, `mailtab worker` processes do, as many as wanted, on any host.
    return create_app(settings, delivery_worker=settings.embedded and settings.notify_in_process)
