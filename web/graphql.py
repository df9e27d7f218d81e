"""/graphql: the checks in front of Strawberry's view, in the order a request meets them.

1. Method: GET and POST only (405).
2. The GraphiQL page (GET, Accept: text/html, no query) is open, under its own CSP; it is
   ``web.graphiql``'s, which loads everything from this service, not Strawberry's CDN page.
3. POST bodies: ``application/json`` only (415), in any letter case (RFC 9110; Strawberry
   is handed it in lower case) — form and text posts are what a foreign
   page can send without a CORS preflight, so refusing them closes the simple CSRF path;
   at most ``max_body_bytes`` (413 at once from Content-Length, or while reading a chunked
   body); one operation per request (no batching); a JSON object in UTF-8, nested at most
   ``MAX_JSON_DEPTH`` levels (400 otherwise: Strawberry would fail on some of these with a 500).
4. The bearer token (401), looked up within a bounded wait: 503 ``SERVICE_UNAVAILABLE``
   when the database cannot be reached.
5. Answers kept for deployment-constant queries (``web.response_cache``, per request,
   role and language), then a persisted query's text put back from its hash
   (``web.persisted_queries``: ``PERSISTED_QUERY_NOT_FOUND``, a hash that is not the
   text's is refused).
6. Execution. Strawberry refuses mutations over GET (405 here). A response body over
   ``max_response_bytes`` is replaced by a ``RESPONSE_TOO_LARGE`` error (HTTP 200, as other
   GraphQL errors): the cost limit bounds the work, this cap what one response may carry.
Steps 3–6 run under the per-operation time budget (``operation_timeout``): past it the
operation is cancelled — an open transaction rolls back — and the client gets 504
``TIMEOUT``. The response is built inside the budget and sent after it, so a late timeout
can never interrupt a response that has started.
"""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import urlencode

from cross_web import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from config import Settings
from i18n import Lang, Text, negotiate
from models import ApiToken
from services import tokens
from web import errors
from web.errors import error_response
from web.faults import describe_fault
from web.json_body import (
    MAX_JSON_DEPTH,
    NestedTooDeeply,
    UnusableJson,
    load_json,
    parsed,
    remember,
)
from web.persisted_queries import MESSAGES as PERSISTED_MESSAGES
from web.persisted_queries import PersistedQueries, PersistedQueryRefused, resolve
from web.requests import current_request, note_outcome
from web.response_cache import ResponseCache, cache_hints, cache_key
from web.security import PAGE_HEADERS, graphiql_policy
from web.view import GraphQLView

__all__ = ["GraphQLEndpoint"]

log = logging.getLogger("mailtab.http")

#: How long a client should wait before retrying when the database is down.
RETRY_AFTER_SECONDS = "5"

RESPONSE_TOO_LARGE = Text(
    ru="Ответ больше {limit} байт и не отправлен: запросите меньше данных — страницы "
    "поменьше (аргумент limit) или меньше полей. Изменения mutation, если были, выполнены.",
    en="The response is over {limit} bytes and was not sent: ask for less — smaller pages "
    "(the limit argument) or fewer fields. A mutation's changes, if any, were made.",
)


class GraphQLEndpoint:
    """The ASGI app mounted at /graphql."""

    def __init__(self, view: GraphQLView, settings: Settings) -> None:
        self.view = view
        self.max_body = settings.max_body_bytes
        self.max_response = settings.max_response_bytes
        self.budget = settings.operation_timeout
        self.db_wait = settings.db_wait
        self.answers = ResponseCache()
        self.persisted = PersistedQueries()
        self.page_headers = dict(PAGE_HEADERS)
        if view.graphql_ide:
            self.page_headers["content-security-policy"] = graphiql_policy(view.graphql_ide_html)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        lang = negotiate(request.headers.get("accept-language"))
        scope["mailtab.lang"] = lang  # the view's context takes it from here
        response = await self._respond(request, lang)
        await response(scope, receive, send)

    async def _respond(self, request: Request, lang: Lang) -> Response:
        if request.method not in ("GET", "POST"):
            note_outcome("method_not_allowed")
            allow = {"Allow": "GET, POST"}
            return error_response(
                405, "METHOD_NOT_ALLOWED", errors.METHOD_NOT_ALLOWED, lang, headers=allow
            )
        if self._is_ide_page(request):
            record = current_request()
            if record is not None:
                record.operation = "graphiql"
            page = await self.view.render_graphql_ide(request)
            page.headers.update(self.page_headers)
            return page
        budget = asyncio.timeout(self.budget)
        try:
            async with budget:
                return await self._guarded(request, lang)
        except TimeoutError:
            if not budget.expired():
                raise
            note_outcome("timeout")
            log.warning("operation stopped after its time budget of %s s", self.budget)
            return error_response(
                504, "TIMEOUT", errors.TIMEOUT.format(seconds=f"{self.budget:g}"), lang
            )

    async def _guarded(self, request: Request, lang: Lang) -> Response:
        sent: bytes = request.scope.get("query_string", b"")
        body: bytes | None = None
        if request.method == "POST":
            read = await self._read_body(request, lang)
            if isinstance(read, Response):
                return read
            sent = body = read
        token = await self._authenticate(request, lang)
        if isinstance(token, Response):
            return token
        request.scope["mailtab.token"] = token
        record = current_request()
        if record is not None:
            record.token_name = token.name
        key = cache_key(method=request.method, request=sent, role=token.role.value, lang=lang)
        cached = self.answers.get(key)
        if cached is not None and record is not None:
            record.operation = cached.operation
            record.operation_type = "query"
            record.operation_name = cached.operation_name
            record.note("ok")
            answer = Response(cached.body, media_type="application/json")
            answer.headers.update(cache_hints(request.method))
            return answer
        try:
            request = self._with_query_text(request, body)
        except PersistedQueryRefused as exc:
            note_outcome("errors" if exc.status == 200 else "bad_request")
            return error_response(exc.status, exc.code.value, PERSISTED_MESSAGES[exc.code], lang)
        except UnusableJson as exc:
            note_outcome("bad_request")
            return _unusable_json(exc, lang)
        except ValueError:
            note_outcome("bad_request")
            return error_response(400, "BAD_REQUEST", errors.NOT_JSON, lang)
        response = await self._execute(request, lang)
        if (
            record is not None
            and record.outcome == "ok"
            and response.status_code == 200
            and self.answers.keep(
                key,
                body=bytes(response.body),
                operation=record.operation,
                operation_type=record.operation_type,
                operation_name=record.operation_name,
            )
        ):
            response.headers.update(cache_hints(request.method))
        return response

    def _with_query_text(self, request: Request, body: bytes | None) -> Request:
        """The request as Strawberry gets it: a persisted query's text put back (if any).

        Raises ``PersistedQueryRefused``, or ``ValueError`` for a GET ``extensions`` that
        is not usable JSON.
        """
        if body is not None:
            payload = parsed(body)
            text = resolve(payload.get("query"), payload.get("extensions"), self.persisted)
            if text is not None and payload.get("query") != text:
                payload = {**payload, "query": text}
                body = json.dumps(payload, ensure_ascii=False).encode()
                remember(body, payload)
            scope = _json_content_type(request.scope)
            return Request(scope, _replay(body, request.receive))
        params = request.query_params
        if "extensions" not in params:
            return request
        extensions = load_json(params["extensions"])
        text = resolve(params.get("query"), extensions, self.persisted)
        if text is None or params.get("query") == text:
            return request
        pairs = [(k, v) for k, v in params.multi_items() if k != "query"] + [("query", text)]
        scope = {**request.scope, "query_string": urlencode(pairs).encode("ascii")}
        return Request(scope, request.receive)

    def _is_ide_page(self, request: Request) -> bool:
        return (
            request.method == "GET"
            and self.view.graphql_ide is not None
            and "text/html" in request.headers.get("accept", "")
            and "query" not in request.query_params
        )

    async def _read_body(self, request: Request, lang: Lang) -> bytes | Response:
        media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type != "application/json":
            note_outcome("unsupported_media_type")
            return error_response(
                415, "UNSUPPORTED_MEDIA_TYPE", errors.UNSUPPORTED_MEDIA_TYPE, lang
            )
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            return self._too_large(lang)
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > self.max_body:
                    return self._too_large(lang)
                chunks.append(chunk)
        except ClientDisconnect:
            note_outcome("bad_request")
            return error_response(400, "BAD_REQUEST", errors.BAD_REQUEST, lang)
        body = b"".join(chunks)
        # Parsed here once to refuse what Strawberry would turn into a 500 with a traceback
        # (a body that is not UTF-8 or not an object, nesting that exhausts the stack);
        # Strawberry still gets the bytes as sent and parses them itself.
        try:
            payload = load_json(body)
            remember(body, payload)
        except UnusableJson as exc:
            note_outcome("bad_request")
            return _unusable_json(exc, lang)
        except ValueError:  # not JSON; UnicodeDecodeError is a ValueError too
            note_outcome("bad_request")
            return error_response(400, "BAD_REQUEST", errors.NOT_JSON, lang)
        if isinstance(payload, list):
            note_outcome("bad_request")
            return error_response(400, "BATCHING_NOT_SUPPORTED", errors.BATCHING, lang)
        if not isinstance(payload, dict):
            note_outcome("bad_request")
            return error_response(400, "BAD_REQUEST", errors.NOT_AN_OBJECT, lang)
        return body

    def _too_large(self, lang: Lang) -> Response:
        note_outcome("too_large")
        return error_response(
            413,
            "PAYLOAD_TOO_LARGE",
            errors.TOO_LARGE.format(limit=self.max_body),
            lang,
            extensions={"limit": self.max_body},
        )

    def _response_too_large(self, size: int, lang: Lang) -> Response:
        note_outcome("too_large")
        log.warning(
            "response of %d bytes not sent: over MAILTAB_MAX_RESPONSE_BYTES (%d)",
            size,
            self.max_response,
        )
        return error_response(
            200,
            "RESPONSE_TOO_LARGE",
            RESPONSE_TOO_LARGE.format(limit=self.max_response),
            lang,
            extensions={"limit": self.max_response},
        )

    async def _authenticate(self, request: Request, lang: Lang) -> ApiToken | Response:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        token: ApiToken | None = None
        if scheme.lower() == "bearer" and credentials.strip():
            try:
                async with asyncio.timeout(self.db_wait):
                    token = await tokens.authenticate(credentials.strip())
            except Exception as exc:
                return _failure(exc, lang, where="the token check")
        if token is None:
            note_outcome("unauthenticated")
            return error_response(
                401,
                "UNAUTHENTICATED",
                errors.UNAUTHENTICATED,
                lang,
                headers={"WWW-Authenticate": 'Bearer realm="mailtab"'},
            )
        return token

    async def _execute(self, request: Request, lang: Lang) -> Response:
        try:
            response = await self.view.run(request)
        except HTTPException as exc:
            return _http_error(exc, lang)
        except Exception as exc:
            return _failure(exc, lang, where="the GraphQL view")
        size = len(getattr(response, "body", b""))
        if size > self.max_response:
            return self._response_too_large(size, lang)
        record = current_request()
        if record is not None and record.outcome == "unavailable":
            # The body says SERVICE_UNAVAILABLE; the status lets proxies and clients retry.
            response.status_code = 503
            response.headers["retry-after"] = RETRY_AFTER_SECONDS
        return response


def _json_content_type(scope: Scope) -> Scope:
    """The scope with its Content-Type's media type as Strawberry compares it: lower case.

    Media types are case-insensitive (RFC 9110, 8.3.1) and ``_read_body`` accepted this one
    as ``application/json``; Strawberry would refuse ``APPLICATION/JSON`` with a 400.
    The parameters (``charset``) are kept as sent.
    """
    headers = []
    for name, value in scope["headers"]:
        if name == b"content-type":
            _, separator, parameters = value.partition(b";")
            value = b"application/json" + separator + parameters
        headers.append((name, value))
    return {**scope, "headers": headers}


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the view the body already read, then listens as before."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _http_error(exc: HTTPException, lang: Lang) -> Response:
    """Strawberry's plain-text refusals, as GraphQL-shaped JSON."""
    cause = exc.__cause__
    if isinstance(cause, InvalidOperationTypeError):
        note_outcome("method_not_allowed")
        return error_response(
            405, "METHOD_NOT_ALLOWED", errors.MUTATION_OVER_GET, lang, headers={"Allow": "POST"}
        )
    note_outcome("bad_request")
    if isinstance(cause, UnusableJson):
        return _unusable_json(cause, lang)
    if isinstance(cause, CannotGetOperationTypeError):
        # Its reason repeats the client's operationName: not echoed.
        return error_response(400, "BAD_REQUEST", errors.UNKNOWN_OPERATION, lang)
    if exc.status_code == 404:
        return error_response(404, "NOT_FOUND", errors.NOT_FOUND, lang)
    if "No GraphQL query" in exc.reason:
        return error_response(400, "BAD_REQUEST", errors.NO_QUERY, lang)
    if "JSON" in exc.reason and "parse" in exc.reason:
        return error_response(400, "BAD_REQUEST", errors.NOT_JSON, lang)
    return error_response(
        400, "BAD_REQUEST", errors.BAD_REQUEST, lang, extensions={"reason": exc.reason}
    )


def _unusable_json(exc: UnusableJson, lang: Lang) -> Response:
    if isinstance(exc, NestedTooDeeply):
        return error_response(
            400,
            "BAD_REQUEST",
            errors.TOO_DEEP.format(limit=MAX_JSON_DEPTH),
            lang,
            extensions={"limit": MAX_JSON_DEPTH},
        )
    return error_response(
        400, "BAD_REQUEST", errors.BAD_REQUEST, lang, extensions={"reason": str(exc)}
    )


def _failure(exc: Exception, lang: Lang, *, where: str) -> Response:
    """503 for a database outage or missing migrations, else a masked 500 (web.faults)."""
    fault = describe_fault(exc, where=where)
    note_outcome("unavailable" if fault.status == 503 else "internal")
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if fault.status == 503 else None
    extensions = {k: v for k, v in fault.extensions.items() if k != "code"}
    return error_response(
        fault.status, fault.code, fault.message, lang, headers=headers, extensions=extensions
    )
