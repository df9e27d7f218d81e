"""GraphQL-shaped JSON for requests refused before (or instead of) running GraphQL.

A client always gets ``{"data": null, "errors": [{"message", "extensions": {"code"}}]}``,
whatever refused it, so a frontend has one error path. Messages are Russian unless the
request prefers English.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse

from i18n import Lang, Text

__all__ = [
    "BAD_REQUEST",
    "BATCHING",
    "METHOD_NOT_ALLOWED",
    "MUTATION_OVER_GET",
    "NOT_AN_OBJECT",
    "NOT_FOUND",
    "NOT_JSON",
    "NO_QUERY",
    "TIMEOUT",
    "TOO_DEEP",
    "TOO_LARGE",
    "UNAUTHENTICATED",
    "UNKNOWN_OPERATION",
    "UNSUPPORTED_MEDIA_TYPE",
    "error_response",
]

UNAUTHENTICATED = Text(
    ru="Нужен действующий токен доступа: заголовок «Authorization: Bearer <токен>».",
    en="A valid access token is required: header 'Authorization: Bearer <token>'.",
)
TOO_LARGE = Text(
    ru="Запрос слишком большой: тело запроса не может быть больше {limit} байт.",
    en="The request is too large: the body may be at most {limit} bytes.",
)
UNSUPPORTED_MEDIA_TYPE = Text(
    ru="Тело запроса должно быть в формате JSON: заголовок «Content-Type: application/json».",
    en="The request body must be JSON: header 'Content-Type: application/json'.",
)
METHOD_NOT_ALLOWED = Text(
    ru="Адрес /graphql принимает только запросы GET и POST.",
    en="/graphql accepts GET and POST requests only.",
)
MUTATION_OVER_GET = Text(
    ru="Изменения (mutation) выполняются только запросом POST.",
    en="Mutations are accepted over POST only.",
)
BATCHING = Text(
    ru="Пакетные запросы не поддерживаются: одна операция на запрос.",
    en="Batched requests are not supported: send one operation per request.",
)
BAD_REQUEST = Text(
    ru="Некорректный GraphQL-запрос (подробности в extensions.reason).",
    en="Malformed GraphQL request (see extensions.reason).",
)
NO_QUERY = Text(
    ru="В запросе нет GraphQL-операции (поле «query»).",
    en="The request has no GraphQL operation (field 'query').",
)
UNKNOWN_OPERATION = Text(
    ru="В документе нет операции с таким именем (operationName), или их несколько и имя не указано.",
    en="The document has no operation of that name (operationName), or several and no name was given.",
)
NOT_JSON = Text(ru="Запрос — некорректный JSON.", en="The request is not valid JSON.")
NOT_AN_OBJECT = Text(
    ru="Тело запроса должно быть JSON-объектом с полем «query».",
    en="The request body must be a JSON object with the field 'query'.",
)
TOO_DEEP = Text(
    ru="Слишком глубокая вложенность JSON в запросе: допускается не больше {limit} уровней.",
    en="The request's JSON is nested too deeply: at most {limit} levels are allowed.",
)
NOT_FOUND = Text(ru="Страница не найдена.", en="Not found.")
TIMEOUT = Text(
    ru="Операция не уложилась в отведённое время ({seconds} с) и прервана. Повторите попытку позже.",
    en="The operation did not finish within its time budget ({seconds} s) and was stopped. Try again later.",
)


def error_response(
    status: int,
    code: str,
    message: Text,
    lang: Lang,
    *,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """``{"data": null, "errors": [...]}`` with ``extensions.code`` and the HTTP status."""
    error = {"message": message(lang), "extensions": {"code": code, **(extensions or {})}}
    return JSONResponse(
        {"data": None, "errors": [error]}, status_code=status, headers=dict(headers or {})
    )
