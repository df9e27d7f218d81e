"""Error messages that never repeat what the request carried.

graphql-core repeats the offending input in its coercion and validation messages
("found: {'password': ...}", "String cannot represent a non string value: 987654321").
``redact`` cuts out the value after such a phrase, then the strings the request carried
wherever they appear (and its numbers, booleans and unknown enum names in the messages
that echo a value). ``without_suggestions`` cuts graphql-core's "Did you mean …?" hints.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from graphql import (
    BooleanValueNode,
    EnumValueNode,
    FloatValueNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLSchema,
    IntValueNode,
    ObjectFieldNode,
    StringValueNode,
    visit,
)
from graphql.language import Visitor
from strawberry.types import ExecutionContext

__all__ = ["REDACTED", "Inputs", "inputs_of", "redact", "without_suggestions"]

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


def inputs_of(context: ExecutionContext | None) -> Inputs:
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


# Suggested names never contain "?", and graphql-core may put text after the hint.
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def without_suggestions(message: str) -> str:
    """``message`` without graphql-core's "Did you mean …?" tail."""
    return _SUGGESTION.sub("", message)
