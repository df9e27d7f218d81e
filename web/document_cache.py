"""Documents parsed and validated once: the same query text costs neither step again.

``ValidDocuments`` remembers, per query text and set of validation rules, the parsed
document that passed validation, and skips validation when the same document (Strawberry's
``ParserCache`` hands out the same object for the same text) comes again. Only documents
without errors are kept: an invalid document is validated, and its errors made, every
time. Both caches are bounded (``MAX_DOCUMENTS`` texts), so unique query texts cannot grow
memory. The limits that read the document itself (``QueryCost``, the depth, alias and token
limits) still apply to every request: the depth and alias rules are validation rules, the
token limit is a parse option (part of the parse cache's key), the cost is computed anew.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from graphql import ASTValidationRule, DocumentNode
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

__all__ = ["MAX_DOCUMENTS", "ValidDocuments"]

MAX_DOCUMENTS = 256

_Key = tuple[str, tuple[type[ASTValidationRule], ...]]
_valid: OrderedDict[_Key, DocumentNode] = OrderedDict()


class ValidDocuments(SchemaExtension):
    """Validation once per query text and rule set (listed after every rule-adding extension)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is None or context.query is None or context.pre_execution_errors is not None:
            yield
            return
        key = (context.query, context.validation_rules)
        if _valid.get(key) is document:
            _valid.move_to_end(key)
            context.pre_execution_errors = []
            yield
            return
        errors = validate_document(context.schema._schema, document, context.validation_rules)
        context.pre_execution_errors = errors
        if not errors:
            _valid[key] = document
            while len(_valid) > MAX_DOCUMENTS:
                _valid.popitem(last=False)
        yield
