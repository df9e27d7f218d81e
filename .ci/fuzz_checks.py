"""schemathesis hooks for ``.ci/fuzz``: plant the configured password, fail on any echo of it.

Loaded by schemathesis through ``SCHEMATHESIS_HOOKS=.ci/fuzz_checks.py``; the password comes
from ``MAILTAB_FUZZ_PASSWORD`` (the one ``.ci/fuzz`` saved through the API).

- ``map_body`` sets the password in two thirds of the generated mail-settings inputs
  (replacing a generated string or null, or adding the field), so that the fuzzer's
  malformed inputs (a missing ``address``, an unknown field, wrong types beside it) carry
  the real secret: graphql-core repeats whole input objects in its validation errors, and
  a leak then shows up verbatim.
- ``before_call`` varies ``Accept-Language`` (Russian, English, junk) across the cases.
- ``password_not_leaked`` fails a response whose headers or body hold the password in any
  encoding: raw UTF-8, JSON ``\\uXXXX`` escapes, or just its random ASCII marker (which
  survives every escaping of the Cyrillic part).
"""

from __future__ import annotations

import json
import os
import re
import zlib
from typing import Any

import graphql
import schemathesis

PASSWORD = os.environ["MAILTAB_FUZZ_PASSWORD"]
MARKER = os.environ["MAILTAB_FUZZ_PASSWORD_MARKER"]
LANGUAGES = (
    None,
    "en",
    "en-US,en;q=0.9",
    "ru-RU,ru;q=0.9,en;q=0.8",
    "de-DE, fr;q=0.5",
    "*",
    "en;q=abc, ;;, xx-",
)


def _needles() -> tuple[bytes, ...]:
    escaped = json.dumps(PASSWORD)[1:-1]
    upper = re.sub(r"\\u[0-9a-f]{4}", lambda m: "\\u" + m.group(0)[2:].upper(), escaped)
    forms = {PASSWORD, escaped, upper, MARKER}
    return tuple(form.encode("utf-8") for form in forms)


NEEDLES = _needles()


def _digest(text: str) -> int:
    # Not hash(): that is salted per process, and the run must repeat under one --seed.
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


class _PlantPassword(graphql.Visitor):
    """Sets ``password`` in every ``MailSettingsInput`` object of a document."""

    def __init__(self, types: graphql.TypeInfo) -> None:
        super().__init__()
        self.types = types

    def enter_object_value(self, node: graphql.ObjectValueNode, *_: Any) -> Any:
        input_type = graphql.get_named_type(self.types.get_input_type())
        if input_type is None or input_type.name != "MailSettingsInput":
            return None
        planted = graphql.ObjectFieldNode(
            name=graphql.NameNode(value="password"), value=graphql.StringValueNode(value=PASSWORD)
        )
        fields = [field for field in node.fields if field.name.value != "password"]
        generated = next((f.value for f in node.fields if f.name.value == "password"), None)
        if generated is None or isinstance(
            generated, graphql.StringValueNode | graphql.NullValueNode
        ):
            fields.append(planted)
        else:  # a wrong type the negative mode chose: keep it, the case must stay invalid
            fields.append(graphql.ObjectFieldNode(name=planted.name, value=generated))
        return graphql.ObjectValueNode(fields=tuple(fields))


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    # Two cases in three: the rest keep the generated value, so the password field is fuzzed too.
    if isinstance(body, graphql.DocumentNode) and _digest(graphql.print_ast(body)) % 3:
        types = graphql.TypeInfo(context.operation.schema.client_schema)
        return graphql.visit(body, graphql.TypeInfoVisitor(types, _PlantPassword(types)))
    return body


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    # Without the password, which differs from run to run, so the choice repeats under one --seed.
    language = LANGUAGES[_digest(str(case.body).replace(PASSWORD, "")) % len(LANGUAGES)]
    if language is not None:
        case.headers = {**(case.headers or {}), "Accept-Language": language}


def find_leak(content: bytes) -> bytes | None:
    """The first form of the password found in ``content``, if any."""
    return next((needle for needle in NEEDLES if needle in content), None)


@schemathesis.check
def password_not_leaked(ctx: Any, response: Any, case: Any) -> bool | None:
    """The configured mail password never appears in a response, in any encoding."""
    headers = "\n".join(
        f"{name}: {value}" for name, values in response.headers.items() for value in values
    )
    for where, content in (("headers", headers.encode("utf-8")), ("body", response.content)):
        needle = find_leak(content or b"")
        if needle is not None:
            raise AssertionError(
                f"the configured password leaked in the response {where} "
                f"(as {needle.decode('utf-8')!r})"
            )
    return None
