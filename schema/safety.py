"""What errors may tell: unexpected faults masked with an id, input values never echoed.

graphql-core repeats the offending input in its coercion and validation
messages ("found: {'password': ...}", "String cannot represent a non string
value: 987654321"), and Strawberry logs every error as it is. Here every error
is rewritten once, before it is logged or sent: the value after such a phrase
is cut out, then the strings the request carried wherever they appear (and its
numbers, booleans and unknown enum names in the messages that echo a value), and
an error that is not a GraphQL error of our own making (a bug, a driver fault)
becomes a generic localized message with an id that the log line also has.
A fault that only says the database (or another store) cannot be reached right now becomes
``SERVICE_UNAVAILABLE`` instead: the client may retry, and the log line needs no traceback.
So does a database that lacks the migrations of this version (``reason: pendingMigrations``,
as ``/readyz`` says it): a state the administrator fixes with ``mailtab migrate``, not a bug.
``HideSuggestions`` cuts graphql-core's "Did you mean …?" hints where the schema is not
meant to be explored.
"""

from __future__ import annotations

import errno
import functools
import importlib
import json
import logging
import re
import socket
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import strawberry
from graphql import (
    BooleanValueNode,
    EnumValueNode,
    FloatValueNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLSchema,
    IntValueNode,
    ObjectFieldNode,
    StringValueNode,
    visit,
)
from graphql.language import Visitor
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from i18n import DEFAULT_LANG, Lang, Text
from models.db import is_unmigrated

__all__ = [
    "INTERNAL",
    "PENDING_MIGRATIONS",
    "UNAVAILABLE",
    "ErrorPolicy",
    "HideSuggestions",
    "SafeSchema",
    "ServiceUnavailable",
    "is_outage",
    "is_unmigrated",
    "safe_error",
    "unavailable_reason",
    "without_suggestions",
]

log = logging.getLogger("mailtab.graphql")

INTERNAL = Text(
    ru="Внутренняя ошибка сервера. Сообщите администратору номер ошибки: {error_id}.",
    en="Internal server error. Give the administrator this error id: {error_id}.",
)
UNAVAILABLE = Text(
    ru="Сервис временно недоступен: нет связи с базой данных. Повторите попытку через несколько секунд.",
    en="The service is temporarily unavailable: the database cannot be reached. Retry in a few seconds.",
)
PENDING_MIGRATIONS = Text(
    ru="Сервис временно недоступен: база данных не обновлена до этой версии. Администратору: выполните `mailtab migrate`.",
    en="The service is temporarily unavailable: the database lacks this version's migrations. Administrator: run `mailtab migrate`.",
)
REDACTED = "•••"
# The phrases after which graphql-core repeats the input it refused, up to where its message
# goes on ("; Next sentence", ". Did you mean …?") or ends. "Found" is capitalized after a
# suggestion; "cannot represent" is every scalar's and enum's type error: "String cannot
# represent a non string value: 5", "Int cannot represent non-integer value: x", "Enum 'E'
# cannot represent non-enum value: 1.5", "ID cannot represent value: true", …
_ECHOED_VALUE = re.compile(
    r"(got invalid value|\b[Ff]ound:?|cannot represent[^:'\"]*? value:) "
    r".*?(?=; [A-Z]|\.? Did you mean |\.?$)",
    re.DOTALL,
)
# An enum literal or string the enum does not have comes first in its message. Greedy, so
# that a value which itself contains "' does not exist in 'X' enum" is still cut whole.
_UNKNOWN_ENUM_VALUE = re.compile(r"(Value )'.*'( does not exist in '\w+' enum)", re.DOTALL)


class ServiceUnavailable(GraphQLError):
    """A dependency (the database) is down; the client may retry later."""

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "SERVICE_UNAVAILABLE"})


def _optional_types(module: str, *names: str) -> tuple[type[BaseException], ...]:
    try:
        found = importlib.import_module(module)
    except ImportError:
        return ()
    return tuple(getattr(found, name) for name in names if hasattr(found, name))


# What a lost or refused connection looks like from asyncpg, Tortoise and the Redis clients
# behind the rate limiter. Bugs (a KeyError, a FileNotFoundError) must not hide among them,
# hence no bare OSError subclasses beyond the network ones.
_OUTAGE_TYPES: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    *_optional_types("tortoise.exceptions", "DBConnectionError"),
    *_optional_types(
        "asyncpg.exceptions",
        "PostgresConnectionError",
        "CannotConnectNowError",
        "AdminShutdownError",
        "CrashShutdownError",
        "TooManyConnectionsError",
    ),
    *_optional_types("redis.exceptions", "ConnectionError", "TimeoutError"),
    *_optional_types("coredis.exceptions", "ConnectionError", "TimeoutError"),
)
_NETWORK_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ETIMEDOUT,
    errno.EPIPE,
}


def is_outage(exc: BaseException) -> bool:
    """True when ``exc``, or an exception it was raised from, says a store cannot be reached."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _OUTAGE_TYPES):
            return True
        # asyncpg reports "every address refused" as a plain OSError without an errno.
        if type(current) is OSError and (current.errno is None or current.errno in _NETWORK_ERRNOS):
            return True
        if current.__cause__ is not None:
            current = current.__cause__
        else:  # "raise … from None" says the earlier exception does not matter
            current = None if current.__suppress_context__ else current.__context__
    return False


def unavailable_reason(exc: BaseException) -> tuple[str, Text] | None:
    """Why ``exc`` makes the service unavailable (a reason code and its message), or None.

    ``databaseUnreachable``: the client may retry; ``pendingMigrations``: the database is
    there but older than the code, until ``mailtab migrate`` runs.
    """
    if is_outage(exc):
        return "databaseUnreachable", UNAVAILABLE
    if is_unmigrated(exc):
        return "pendingMigrations", PENDING_MIGRATIONS
    return None


class _SchemaNames(NamedTuple):
    """Names the schema publishes: a client repeating them discloses nothing."""

    enum_values: frozenset[str]
    input_fields: frozenset[str]


@functools.lru_cache(maxsize=8)
def _schema_names(schema: GraphQLSchema) -> _SchemaNames:
    types = schema.type_map.values()
    return _SchemaNames(
        frozenset(v for t in types if isinstance(t, GraphQLEnumType) for v in t.values),
        frozenset(f for t in types if isinstance(t, GraphQLInputObjectType) for f in t.fields),
    )


class Inputs(NamedTuple):
    """What a request carried that its error messages must not repeat, longest forms first."""

    #: Cut wherever they appear: strings (keys the schema does not name included), unknown
    #: enum names. (Short ones may cost a word of a message; a secret costs more.)
    strings: list[str]
    #: Numbers and booleans: cut only from messages that echo a value (see ``redact``), as
    #: "1" or "true" are words of too many other messages ("line 1", "32-bit", "Allowed: 15").
    scalars: list[str]


class _Literals(Visitor):
    def __init__(self, names: _SchemaNames) -> None:
        super().__init__()
        self.enum_values = names.enum_values
        self.input_fields = names.input_fields
        self.strings: list[str] = []
        self.scalars: list[Any] = []

    def enter_object_field(self, node: ObjectFieldNode, *args: Any) -> None:
        # As in variables: a field name the schema does not know is the client's text.
        if node.name.value not in self.input_fields:
            self.strings.append(node.name.value)

    def enter_string_value(self, node: StringValueNode, *args: Any) -> None:
        self.strings.append(node.value)

    def enter_enum_value(self, node: EnumValueNode, *args: Any) -> None:
        # The schema's own values (YANDEX, STARTTLS) name the choices in readable messages;
        # any other name is the client's text, and may be a secret typed without quotes.
        if node.value not in self.enum_values:
            self.strings.append(node.value)

    def enter_int_value(self, node: IntValueNode, *args: Any) -> None:
        self.scalars.append(node.value)  # the source text, as graphql-core prints it

    def enter_float_value(self, node: FloatValueNode, *args: Any) -> None:
        self.scalars.append(node.value)

    def enter_boolean_value(self, node: BooleanValueNode, *args: Any) -> None:
        self.scalars.append(node.value)


def _walk(values: Iterable[Any], field_names: frozenset[str]) -> Iterator[Any]:
    """The strings, numbers and booleans inside decoded JSON variables."""
    # An explicit stack: the HTTP layer bounds nesting, but no input may make this recurse.
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                # An unknown field's name is echoed back ("not to include unknown field
                # 'x'"), a schema's field name is a path ("at .password") worth keeping.
                if key not in field_names:
                    stack.append(key)
                stack.append(item)
        elif isinstance(value, list | tuple):
            stack.extend(value)
        elif isinstance(value, str | int | float):  # bool is an int
            yield value


def _scalar_forms(value: Any) -> set[str]:
    # str/repr: graphql-core's inspect() and f-strings (True, 1e+16); json: as it was sent.
    if isinstance(value, str):  # a literal's source text
        return {value}
    return {str(value), repr(value), json.dumps(value)}


def _longest_first(forms: Iterable[str]) -> list[str]:
    return sorted({form for form in forms if form}, key=len, reverse=True)


def _inputs(context: ExecutionContext | None) -> Inputs:
    if context is None:
        return Inputs([], [])
    schema = getattr(context.schema, "_schema", None)
    names = _schema_names(schema) if isinstance(schema, GraphQLSchema) else None
    strings: list[str] = []
    scalars: list[Any] = []
    # Variable names are declared in the document and are not secrets; their values are.
    for value in _walk(
        (context.variables or {}).values(), names.input_fields if names else frozenset()
    ):
        (strings if isinstance(value, str) else scalars).append(value)
    if context.graphql_document is not None:
        collector = _Literals(names or _SchemaNames(frozenset(), frozenset()))
        visit(context.graphql_document, collector)
        strings.extend(collector.strings)
        scalars.extend(collector.scalars)
    return Inputs(
        _longest_first(
            form for s in strings if s for form in (s, repr(s)[1:-1], json.dumps(s)[1:-1])
        ),
        _longest_first(form for value in scalars for form in _scalar_forms(value)),
    )


def _occurrences(value: str) -> re.Pattern[str]:
    # Not inside a longer word: an input "x" must not turn "Expected" into "E•••pected".
    # A side of the value that is not a word character needs no boundary.
    before = r"(?<!\w)" if re.match(r"\w", value[0]) else ""
    after = r"(?!\w)" if re.match(r"\w", value[-1]) else ""
    return re.compile(before + re.escape(value) + after)


def redact(message: str, strings: Sequence[str], scalars: Sequence[str] = ()) -> str:
    """``message`` without echoed values, ``strings`` anywhere, ``scalars`` where values echo.

    Both lists longest first, so that a value is cut before a shorter one inside it.
    """
    message, echoes = _ECHOED_VALUE.subn(lambda m: f"{m.group(1)} {REDACTED}", message)
    message, unknown = _UNKNOWN_ENUM_VALUE.subn(rf"\1'{REDACTED}'\2", message)
    for value in strings:
        message = _occurrences(value).sub(REDACTED, message)
    if echoes or unknown:
        # What the phrases above did not cover of a message that repeats input, such as
        # "but encountered error '…'" from a scalar's own parser.
        for value in scalars:
            message = _occurrences(value).sub(REDACTED, message)
    return message


def _lang(context: ExecutionContext | None) -> Lang:
    lang = getattr(getattr(context, "context", None), "lang", None)
    return "en" if lang == "en" else DEFAULT_LANG


def safe_error(error: GraphQLError, context: ExecutionContext | None) -> GraphQLError:
    """The client-safe form of an error, computed (and logged) once per error."""
    done: GraphQLError | None = getattr(error, "_mailtab_safe", None)
    if done is not None:
        return done
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        message = redact(error.message, *_inputs(context))
        safe = GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=error.extensions,
        )
        log.info("graphql error: %s", message)
    elif (unavailable := unavailable_reason(original)) is not None:
        reason, text = unavailable
        error_id = uuid.uuid4().hex[:12]
        # An expected condition with a known remedy: one line, no traceback.
        log.warning(
            "service unavailable %s at %s (%s): %s: %s",
            error_id,
            ".".join(str(p) for p in error.path or ()) or "-",
            reason,
            original.__class__.__name__,
            original,
        )
        safe = GraphQLError(
            text(_lang(context)),
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "SERVICE_UNAVAILABLE", "reason": reason, "errorId": error_id},
        )
    else:
        error_id = uuid.uuid4().hex[:12]
        log.error(
            "unexpected error %s at %s: %s",
            error_id,
            ".".join(str(p) for p in error.path or ()) or "-",
            original.__class__.__name__,
            exc_info=original,
        )
        safe = GraphQLError(
            INTERNAL.format(error_id=error_id)(_lang(context)),
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "errorId": error_id},
        )
    for target in (error, safe):
        target._mailtab_safe = safe  # type: ignore[attr-defined]
    return safe


class ErrorPolicy(SchemaExtension):
    """Replaces every error of the result with its safe form before it is sent."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [safe_error(e, self.execution_context) for e in result.errors]


# Suggested names never contain "?", and graphql-core may put text after the hint.
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def without_suggestions(message: str) -> str:
    """``message`` without graphql-core's "Did you mean …?" tail."""
    return _SUGGESTION.sub("", message)


class HideSuggestions(SchemaExtension):
    """Drops "Did you mean …?" from every error message, so the schema cannot be guessed.

    Strawberry's ``disable_field_suggestions`` covers unknown fields only; graphql-core also
    suggests arguments, types, enum values and input fields. Listed before ``ErrorPolicy``,
    this runs after it, on the safe forms.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        for error in result.errors:
            error.message = without_suggestions(error.message)


class SafeSchema(strawberry.Schema):
    """A schema that logs errors in their safe form only (never the raw input)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            safe_error(error, execution_context)
