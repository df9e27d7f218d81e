"""What a document may ask for, checked right after parsing and before validation.

A field costs 1, plus the cost of its selection times the number of objects it may return:
1 for an object, the page for a list with a ``limit`` (or ``last``/``first``) argument — the
value asked for, in a literal or a variable, taken into 1..``MAX_PAGE`` as the resolvers take
it, else the argument's default —, the schema's own (average) sizes for introspection lists,
and ``UNPAGED_LIST`` for the other lists (presets, steps, a payload's errors: short, in memory).
Fields are merged by response name and fragments expanded where they are spread, each once per
selection set, as graphql-core executes them; a merged selection is costed once however
often it recurs (no walk through 2**30 paths), and a fragment cycle costs nothing (validation
refuses it). Fields the schema does not have are skipped: validation names them.

The field selections as written are counted first: graphql-core's check that fields can be
merged compares every pair of same-named fields, so one field repeated 450 times costs
seconds of CPU in validation, long before execution.

A refused document costs one walk over its nodes, not graphql-core's validation rules.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    GraphQLWrappingType,
    InlineFragmentNode,
    IntValueNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef
from strawberry.extensions import SchemaExtension

from i18n import DEFAULT_LANG, Text
from schema.paging import MAX_PAGE

__all__ = [
    "PAGE_ARGUMENTS",
    "TOO_COMPLEX",
    "TOO_MANY_FIELDS",
    "UNPAGED_LIST",
    "QueryCost",
    "count_fields",
    "query_cost",
]

#: The arguments that say how many items a list field returns.
PAGE_ARGUMENTS = ("limit", "last", "first")
#: What a list without paging arguments is counted as.
UNPAGED_LIST = 20
#: Costs stop growing here: the number stays printable, and far past any limit.
CEILING = 10**15
#: Nesting of fields (fragments included) past which a document counts as too complex: far
#: deeper than the depth limit allows, and the walk's recursion stays well within Python's.
MAX_NESTING = 100

TOO_COMPLEX = Text(
    ru="Запрос слишком сложный: его стоимость {cost} больше допустимой {limit}. "
    "Запросите страницы поменьше (аргумент limit) или меньше вложенных списков.",
    en="The query is too complex: its cost {cost} is over the limit of {limit}. "
    "Ask for smaller pages (the limit argument) or fewer nested lists.",
)
TOO_MANY_FIELDS = Text(
    ru="В запросе слишком много полей: {fields} при допустимых {limit}. "
    "Уберите повторы или разделите запрос на несколько.",
    en="The query selects too many fields: {fields}, the limit is {limit}. "
    "Drop repeated fields or split the query.",
)

_Key = tuple[str, tuple[int, ...]]


def count_fields(document: DocumentNode) -> int:
    """Field selections in the document as written (fragments once, where defined)."""
    count = 0
    stack: list[SelectionSetNode] = [
        d.selection_set
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode | FragmentDefinitionNode)
    ]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FieldNode):
                count += 1
            if isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                stack.append(selection.selection_set)
    return count


def query_cost(
    schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any] | None = None
) -> int:
    """The highest cost among the document's operations (any of them may be asked to run)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    costs = [0]
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            root = schema.get_root_type(definition.operation)
            if root is not None:
                walk = _Walk(schema, fragments, definition, variables or {})
                costs.append(walk.selection([definition.selection_set], root, nesting=0))
    return max(costs)


@functools.lru_cache(maxsize=8)
def _introspection_sizes(schema: GraphQLSchema) -> dict[tuple[str, str], int]:
    """How long each introspection list is in this schema, on average over its owners.

    ``types { fields { args } }`` returns every type's own fields, not each type times the
    longest list: the average (rounded up) times the number of owners is the real total.
    """
    types = list(schema.type_map.values())
    objects = [t for t in types if isinstance(t, GraphQLObjectType | GraphQLInterfaceType)]
    fields = [f for t in objects for f in t.fields.values()]
    inputs = [t for t in types if isinstance(t, GraphQLInputObjectType)]
    abstract = [t for t in types if isinstance(t, GraphQLInterfaceType | GraphQLUnionType)]
    directives = schema.directives

    def mean(total: int, owners: int) -> int:
        return max(1, -(-total // max(owners, 1)))  # rounded up, at least 1

    return {
        ("__Schema", "types"): max(1, len(types)),
        ("__Schema", "directives"): max(1, len(directives)),
        ("__Type", "fields"): mean(len(fields), len(types)),
        ("__Type", "interfaces"): mean(sum(len(t.interfaces) for t in objects), len(types)),
        ("__Type", "possibleTypes"): mean(
            sum(len(schema.get_possible_types(t)) for t in abstract), len(types)
        ),
        ("__Type", "enumValues"): mean(
            sum(len(t.values) for t in types if isinstance(t, GraphQLEnumType)), len(types)
        ),
        ("__Type", "inputFields"): mean(sum(len(t.fields) for t in inputs), len(types)),
        ("__Field", "args"): mean(sum(len(f.args) for f in fields), len(fields)),
        ("__Directive", "args"): mean(sum(len(d.args) for d in directives), len(directives)),
    }


class _Walk:
    """One operation's cost; merged selections memoized by their nodes."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.defaults = {
            v.variable.name.value: v.default_value for v in operation.variable_definitions or ()
        }
        self.sizes = _introspection_sizes(schema)
        self.done: dict[_Key, int] = {}
        self.active: set[_Key] = set()

    def selection(
        self, sets: Sequence[SelectionSetNode], parent: GraphQLNamedType, *, nesting: int
    ) -> int:
        key = (parent.name, tuple(id(s) for s in sets))
        if key in self.done:
            return self.done[key]
        if key in self.active:  # through a fragment cycle: validation refuses it
            return 0
        if nesting > MAX_NESTING:
            return CEILING
        self.active.add(key)
        total = 0
        for nodes in self._collect(sets, parent).values():
            total = min(CEILING, total + self._field(nodes, nesting=nesting))
            if total >= CEILING:
                break
        self.active.discard(key)
        self.done[key] = total
        return total

    def _collect(
        self, sets: Sequence[SelectionSetNode], parent: GraphQLNamedType
    ) -> dict[str, list[tuple[FieldNode, GraphQLNamedType]]]:
        """The fields of the merged selection by response name, each with its parent type."""
        fields: dict[str, list[tuple[FieldNode, GraphQLNamedType]]] = {}
        spread: set[str] = set()
        stack = [(s, parent) for s in reversed(sets)]
        while stack:
            selection_set, owner = stack.pop()
            for selection in reversed(selection_set.selections):
                if isinstance(selection, FieldNode):
                    name = (selection.alias or selection.name).value
                    fields.setdefault(name, []).append((selection, owner))
                elif isinstance(selection, InlineFragmentNode):
                    stack.append((selection.selection_set, self._narrowed(owner, selection)))
                elif isinstance(selection, FragmentSpreadNode):
                    fragment = self.fragments.get(selection.name.value)
                    if fragment is not None and fragment.name.value not in spread:
                        spread.add(fragment.name.value)  # once per selection, as executed
                        stack.append((fragment.selection_set, self._narrowed(owner, fragment)))
        return fields

    def _narrowed(
        self, owner: GraphQLNamedType, node: InlineFragmentNode | FragmentDefinitionNode
    ) -> GraphQLNamedType:
        if node.type_condition is None:
            return owner
        return self.schema.get_type(node.type_condition.name.value) or owner

    def _field(self, nodes: list[tuple[FieldNode, GraphQLNamedType]], *, nesting: int) -> int:
        for node, owner in nodes:
            definition = self._definition(node, owner)
            if definition is not None:
                break
        else:
            return 0  # not in the schema: validation reports it
        sets = [n.selection_set for n, _ in nodes if n.selection_set is not None]
        if not sets:
            return 1
        multiplier = 1
        for _ in _list_levels(definition):
            multiplier = min(CEILING, multiplier * self._list_size(owner.name, node, definition))
        inner = self.selection(sets, get_named_type(definition.type), nesting=nesting + 1)
        return min(CEILING, 1 + multiplier * inner)

    def _definition(self, node: FieldNode, owner: GraphQLNamedType) -> GraphQLField | None:
        name = node.name.value
        if owner is self.schema.query_type:
            if name == "__schema":
                return SchemaMetaFieldDef
            if name == "__type":
                return TypeMetaFieldDef
        if isinstance(owner, GraphQLObjectType | GraphQLInterfaceType):
            found: GraphQLField | None = owner.fields.get(name)
            return found
        return None

    def _list_size(self, owner: str, node: FieldNode, definition: GraphQLField) -> int:
        known = self.sizes.get((owner, node.name.value))
        if known is not None:
            return known
        for name in PAGE_ARGUMENTS:
            argument = definition.args.get(name)
            if argument is not None:
                return self._page(node, name, argument)
        return UNPAGED_LIST

    def _page(self, node: FieldNode, name: str, argument: GraphQLArgument) -> int:
        asked: Any = argument.default_value
        for given in node.arguments or ():
            if given.name.value == name:
                asked = self._value(given.value, fallback=argument.default_value)
        if isinstance(asked, int) and not isinstance(asked, bool):
            return max(1, min(asked, MAX_PAGE))
        return MAX_PAGE  # not a number: the request fails later; counted at its largest

    def _value(self, node: ValueNode | Node | None, *, fallback: Any) -> Any:
        if isinstance(node, VariableNode):
            name = node.name.value
            if name in self.variables:
                return self.variables[name]
            return self._value(self.defaults.get(name), fallback=fallback)
        if isinstance(node, IntValueNode):
            return int(node.value)
        return fallback if node is None else None


def _list_levels(definition: GraphQLField) -> Iterator[None]:
    kind: Any = definition.type
    while isinstance(kind, GraphQLWrappingType):
        if isinstance(kind, GraphQLList):
            yield None
        kind = kind.of_type


class QueryCost(SchemaExtension):
    """Refuses, right after parsing, a document with too many fields or too high a cost."""

    def __init__(self, *, max_cost: int, max_fields: int) -> None:
        self.max_cost = max_cost
        self.max_fields = max_fields

    def on_parse(self) -> Iterator[None]:
        yield
        context = self.execution_context
        document = context.graphql_document
        if document is None:
            return
        lang = getattr(context.context, "lang", DEFAULT_LANG)
        fields = count_fields(document)
        if fields > self.max_fields:
            raise GraphQLError(
                TOO_MANY_FIELDS.format(fields=fields, limit=self.max_fields)(lang),
                extensions={"code": "TOO_MANY_FIELDS", "fields": fields, "limit": self.max_fields},
            )
        cost = query_cost(context.schema._schema, document, context.variables)
        if cost > self.max_cost:
            raise GraphQLError(
                TOO_COMPLEX.format(cost=cost, limit=self.max_cost)(lang),
                extensions={"code": "QUERY_TOO_COMPLEX", "cost": cost, "limit": self.max_cost},
            )
