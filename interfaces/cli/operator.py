"""Who the ``kehu`` command line acts as, and which matrix action each command performs
(the convention: application/permissions.py).

Whoever runs ``kehu`` holds the database's credentials: they could write to the tables
directly, so no role narrower than admin would protect anything. The CLI therefore acts as
:data:`CLI_OPERATOR`, an admin named after the operating-system user, and still goes
through the same services and ``authorize`` as HTTP and GraphQL, so its events carry an
envelope that names it (``cli:<user>``, role ``admin``). Commands that operate the
installation rather than the business — ``db init``, ``serve``, ``worker``, ``demo``,
``config``, ``audit seal|verify|export``, ``projections rebuild``, ``models`` — perform no
matrix action and declare none.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from application.context import Principal, Role
from application.permissions import COMMANDS, QUERIES

CLI_OPERATOR = Principal(
    id=f"cli:{os.environ.get('USER', 'operator')}", role=Role.ADMIN, name="kehu CLI"
)

F = TypeVar("F", bound=Callable[..., Any])

#: Each command's function → the matrix actions it performs (read by interfaces.matrix).
CLI_ACTIONS: dict[Callable[..., Any], tuple[str, ...]] = {}


def acts(*actions: str) -> Callable[[F], F]:
    """Declare the matrix actions a command performs; the function itself is unchanged."""
    unknown = [a for a in actions if a not in COMMANDS and a not in QUERIES]
    if not actions or unknown:
        raise ValueError(f"not in the role matrix (application/permissions.py): {unknown}")

    def declare(function: F) -> F:
        CLI_ACTIONS[function] = actions
        return function

    return declare
