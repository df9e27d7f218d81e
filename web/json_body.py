"""Client JSON, read once: UTF-8 only, nesting bounded, strings that are text.

``load_json`` refuses what Strawberry would turn into a 500 with a traceback (bytes that
are not UTF-8, nesting that exhausts the stack, unpaired surrogate escapes). The endpoint
parses a POST body with it once and ``remember`` s the result for the request, so the view
(web.view) takes the parsed body instead of parsing it again.
"""

from __future__ import annotations

import json
import re
from contextvars import ContextVar
from typing import Any

__all__ = [
    "MAX_JSON_DEPTH",
    "NestedTooDeeply",
    "NotUnicode",
    "UnusableJson",
    "load_json",
    "parsed",
    "remember",
]

#: How deeply a request's JSON may nest. The schema's inputs need a handful of levels. json,
#: graphql-core's value coercion and the error redaction all go one level at a time, some of
#: them recursively: bounded here, deep input is a 400 instead of a RecursionError (500)
#: wherever the interpreter's limit happens to be reached.
MAX_JSON_DEPTH = 32

# Left after json.loads, a surrogate code point can only be an unpaired escape ("\ud800"):
# valid JSON, but not text — encoding it for the database or a log line fails later.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class UnusableJson(ValueError):
    """Well-formed JSON that the service still refuses to process."""


class NestedTooDeeply(UnusableJson):
    def __init__(self) -> None:
        super().__init__(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")


class NotUnicode(UnusableJson):
    def __init__(self) -> None:
        super().__init__(
            "A string in the request is not valid Unicode: an unpaired surrogate escape (\\ud800-\\udfff)."
        )


def load_json(data: str | bytes) -> Any:
    """``json.loads`` for client input: UTF-8 only, ``MAX_JSON_DEPTH`` levels, text strings.

    Raises ``ValueError`` for bytes that are not UTF-8 (``UnicodeDecodeError``) or not JSON,
    and its subclasses ``NestedTooDeeply`` and ``NotUnicode`` for JSON that will not be used.
    """
    # RFC 8259 JSON is UTF-8; a leading BOM is tolerated, as json.loads tolerates it in bytes.
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    try:
        value = json.loads(text)
    except RecursionError:
        # The decoder recurses per level and gives up near the interpreter's limit, which
        # depends on how deep the stack already is: still a client error, not a fault.
        raise NestedTooDeeply from None
    # An explicit stack: the walk must not recurse on the very nesting it bounds.
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise NotUnicode
        elif isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise NestedTooDeeply
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return value


_parsed: ContextVar[tuple[bytes, Any] | None] = ContextVar("mailtab_parsed_body", default=None)


def remember(body: bytes, payload: Any) -> None:
    """Keep ``payload``, the parse of ``body``, for the rest of this request's task."""
    _parsed.set((body, payload))


def parsed(data: str | bytes) -> Any:
    """The remembered parse of ``data`` if it is the body parsed already, else a new parse."""
    known = _parsed.get()
    if known is not None and isinstance(data, bytes) and data == known[0]:
        return known[1]
    return load_json(data)
