"""Limits on what one GraphQL request may ask for: text length, tokens, aliases, depth and
cost.

A read-only API can still be made to work hard: a query nested a hundred levels deep, a
thousand aliases of the same list, or ``first: 200`` inside ``first: 200`` inside
``first: 200``. Each limit is checked before anything is resolved, so a refused query reads
nothing and records nothing. Refusals are GraphQL errors with a stable
``extensions.code``: ``graphql.query_too_long``, ``graphql.too_many_tokens``,
``graphql.too_many_aliases``, ``graphql.too_deep`` and ``graphql.too_costly`` — and text
holding a NUL character, ``validation.nul_character``. Introspection
(``__schema``, ``__type``) is neither deep nor costly here: GraphiQL and the schema fuzzer
need it.

The cost is the number of fields the query could resolve: each field counts one, and what
is selected under a list counts once per item — ``first`` items under a field that takes
``first`` (its default when absent), one per page under a connection's ``edges``, and
``LIST_ESTIMATE`` under any other list.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    Lexer,
    OperationDefinitionNode,
    SelectionSetNode,
    Source,
    StringValueNode,
    TokenKind,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
    is_list_type,
    is_non_null_type,
)
from graphql.type.definition import GraphQLInterfaceType, GraphQLObjectType
from strawberry.extensions import SchemaExtension

from application.settings import Settings

LIST_ESTIMATE = 10
"""Items assumed under a list that takes no ``first`` (factors, breaches, amendments…)."""

PAGE_DEFAULT = 200
"""Items assumed under ``first`` when neither the query nor the schema gives a number."""


@dataclass(frozen=True)
class Limits:
    max_query_chars: int
    max_tokens: int
    max_aliases: int
    max_depth: int
    max_cost: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_query_chars=settings.graphql_max_query_chars,
            max_tokens=settings.graphql_max_tokens,
            max_aliases=settings.graphql_max_aliases,
            max_depth=settings.graphql_max_depth,
            max_cost=settings.graphql_max_cost,
        )


def refusal(code: str, message: str, **values: int) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, "status": 400, **values})


def count_tokens(query: str, stop_after: int) -> int:
    """Lexical tokens in ``query``, counting no further than ``stop_after``. A lexing error
    ends the count: the parser reports it properly afterwards."""
    lexer = Lexer(Source(query))
    count = 0
    try:
        while count <= stop_after and lexer.advance().kind != TokenKind.EOF:
            count += 1
    except GraphQLError:
        pass
    return count


@dataclass(frozen=True)
class Measure:
    depth: int
    cost: int

    def __add__(self, other: Measure) -> Measure:
        return Measure(max(self.depth, other.depth), self.cost + other.cost)


NOTHING = Measure(0, 0)


class _Walk:
    """Depth and cost of an operation. Each fragment is measured once and remembered, so a
    document spreading fragments within fragments costs linear time to measure, not
    exponential; a fragment inside its own cycle (refused by the standard rules) counts
    nothing there."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema, self.fragments, self.variables = schema, fragments, variables
        self._measured: dict[str, Measure] = {}
        self._measuring: set[str] = set()

    def measure(self, selections: SelectionSetNode, parent: GraphQLNamedType | None) -> Measure:
        total = NOTHING
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total += self.measure(selection.selection_set, inner)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value)
        return total

    def _field(self, field: FieldNode, owner: GraphQLNamedType | None) -> Measure:
        if field.name.value.startswith("__"):  # introspection: exempt
            return NOTHING
        if field.selection_set is None:
            return Measure(1, 1)
        named, items = self._type_of(owner, field)
        below = self.measure(field.selection_set, named)
        return Measure(1 + below.depth, 1 + items * below.cost)

    def _fragment(self, name: str) -> Measure:
        fragment = self.fragments.get(name)
        if fragment is None or name in self._measuring:
            return NOTHING
        if name not in self._measured:
            self._measuring.add(name)
            inner = self.schema.get_type(fragment.type_condition.name.value)
            self._measured[name] = self.measure(fragment.selection_set, inner)
            self._measuring.discard(name)
        return self._measured[name]

    def _type_of(
        self, owner: GraphQLNamedType | None, field: FieldNode
    ) -> tuple[GraphQLNamedType | None, int]:
        """The field's named type and how many times its selection may be resolved."""
        if not isinstance(owner, GraphQLObjectType | GraphQLInterfaceType):
            return None, 1
        definition = owner.fields.get(field.name.value)
        if definition is None:
            return None, 1
        if "first" in definition.args:
            return get_named_type(definition.type), self._first(field, definition.args["first"])
        unwrapped = (
            definition.type.of_type if is_non_null_type(definition.type) else definition.type
        )
        if is_list_type(unwrapped):
            per_page = field.name.value == "edges"  # the connection's `first` counted it
            return get_named_type(definition.type), 1 if per_page else LIST_ESTIMATE
        return get_named_type(definition.type), 1

    def _first(self, field: FieldNode, argument: Any) -> int:
        value: Any = None
        for given in field.arguments or ():
            if given.name.value != "first":
                continue
            if isinstance(given.value, IntValueNode):
                value = int(given.value.value)
            elif isinstance(given.value, VariableNode):
                value = self.variables.get(given.value.name.value)
        if value is None:
            value = argument.default_value
        return max(value, 1) if isinstance(value, int) else PAGE_DEFAULT


def limit_rule(limits: Limits, variables: Mapping[str, Any]) -> type[ASTValidationRule]:
    """A validation rule refusing operations over the aliases, depth or cost limits."""

    class KehuLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.schema = context.schema
            document = context.document
            fragments = {
                d.name.value: d
                for d in document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            aliases = _count_aliases(document.definitions)
            if aliases > limits.max_aliases:
                context.report_error(
                    refusal(
                        "graphql.too_many_aliases",
                        f"the query uses {aliases} aliases; at most {limits.max_aliases}",
                        aliases=aliases,
                        limit=limits.max_aliases,
                    )
                )
                return
            walk = _Walk(self.schema, fragments, variables)
            for operation in document.definitions:
                if isinstance(operation, OperationDefinitionNode):
                    self._check(walk, operation)

        def _check(self, walk: _Walk, operation: OperationDefinitionNode) -> None:
            root = self.schema.get_root_type(operation.operation)
            measured = walk.measure(operation.selection_set, root)
            depth, cost = measured.depth, measured.cost
            if depth > limits.max_depth:
                self.report_error(
                    refusal(
                        "graphql.too_deep",
                        f"the query nests {depth} fields deep; at most {limits.max_depth}",
                        depth=depth,
                        limit=limits.max_depth,
                    )
                )
                return
            if cost > limits.max_cost:
                self.report_error(
                    refusal(
                        "graphql.too_costly",
                        f"the query could resolve {cost} fields; at most {limits.max_cost}"
                        " (ask for smaller pages: `first`)",
                        cost=cost,
                        limit=limits.max_cost,
                    )
                )

    return KehuLimits


class NoNulCharacters(ValidationRule):
    """A string literal holding NUL (``"\\u0000"``) is refused: PostgreSQL text cannot hold
    it, so the read-model query it filtered failed with an uncoded error."""

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        if NUL in node.value:
            self.report_error(nul_refusal())


NUL = "\x00"


def nul_refusal() -> GraphQLError:
    return refusal("validation.nul_character", "text may not contain the NUL character")


def holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, Mapping):
        return any(holds_nul(k) or holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(holds_nul(item) for item in value)
    return False


def _count_aliases(nodes: Any) -> int:
    """Aliases anywhere in the document (fields, inline fragments and fragments)."""
    count = 0
    for node in nodes:
        if isinstance(node, FieldNode) and node.alias is not None:
            count += 1
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            count += _count_aliases(selection_set.selections)
    return count


class GraphQLLimits(SchemaExtension):
    """Checks the query text before it is parsed and adds the limit rule to validation.
    The limits come from the request's settings (``KEHU_GRAPHQL_*``)."""

    def on_parse(self) -> Iterator[None]:
        limits = self._limits()
        query = self.execution_context.query or ""
        if len(query) > limits.max_query_chars:
            raise refusal(
                "graphql.query_too_long",
                f"the query is {len(query)} characters long; at most {limits.max_query_chars}",
                length=len(query),
                limit=limits.max_query_chars,
            )
        if count_tokens(query, limits.max_tokens) > limits.max_tokens:
            raise refusal(
                "graphql.too_many_tokens",
                f"the query has more than {limits.max_tokens} tokens",
                limit=limits.max_tokens,
            )
        yield

    def on_validate(self) -> Iterator[None]:
        variables = self.execution_context.variables or {}
        if holds_nul(variables):
            raise nul_refusal()
        rule = limit_rule(self._limits(), variables)
        self.execution_context.validation_rules = (
            *self.execution_context.validation_rules,
            rule,
            NoNulCharacters,
        )
        yield

    def _limits(self) -> Limits:
        return Limits.from_settings(self.execution_context.context.system.settings)
