"""Each GraphQL field that reads declares the matrix action it performs, and is authorised
before its resolver runs (the convention: application/permissions.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.types import Info

from application.errors import ApplicationError
from application.permissions import COMMANDS, QUERIES, authorize
from interfaces.graphql.common import Context, graphql_error


class Acts(FieldExtension):
    """Authorise one of ``actions`` (normally just one) before the field resolves.

    A refusal is the field's GraphQL error with the problem's ``code`` in its extensions
    (``auth.forbidden``, ``auth.scope_forbidden``), like every other refusal."""

    def __init__(self, *actions: str) -> None:
        unknown = [a for a in actions if a not in COMMANDS and a not in QUERIES]
        if not actions or unknown:
            raise ValueError(f"not in the role matrix (application/permissions.py): {unknown}")
        self.actions = actions

    def _check(self, info: Info[Context, None]) -> None:
        refusal: ApplicationError | None = None
        for action in self.actions:
            try:
                authorize(info.context.principal, action)
                return
            except ApplicationError as error:
                refusal = refusal or error
        assert refusal is not None
        raise graphql_error(refusal)

    def resolve(
        self, next_: Callable[..., Any], source: Any, info: Info[Context, None], **kwargs: Any
    ) -> Any:
        self._check(info)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self,
        next_: Callable[..., Awaitable[Any]],
        source: Any,
        info: Info[Context, None],
        **kwargs: Any,
    ) -> Any:
        self._check(info)
        return await next_(source, info, **kwargs)


def acts(*actions: str) -> Acts:
    """``extensions=[acts("credit.read")]`` on a field that performs ``credit.read``."""
    return Acts(*actions)
