"""Each REST route declares the matrix action it performs and is authorised before its
input is read (the convention: application/permissions.py)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from anyio import to_thread
from fastapi import Request, Response
from fastapi.routing import APIRoute

from application.context import Principal
from application.permissions import COMMANDS, QUERIES, authorize
from interfaces.bootstrap import System

#: The OpenAPI operation member naming the action, e.g. ``"x-kehu-action": "credit.read"``.
ACTION = "x-kehu-action"


def acts(action: str) -> dict[str, Any]:
    """``openapi_extra`` for a route that performs ``action``."""
    if action not in COMMANDS and action not in QUERIES:
        raise ValueError(f"{action} is not in the role matrix (application/permissions.py)")
    return {ACTION: action}


def declared_action(route: APIRoute) -> str | None:
    return (route.openapi_extra or {}).get(ACTION)


def bearer_token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _authorised(system: System, token: str | None, action: str) -> Principal:
    principal = system.keys.authenticate(token)
    authorize(principal, action)
    return principal


class ActingRoute(APIRoute):
    """A route that authenticates the caller and checks its declared action before FastAPI
    reads the body or validates a parameter: a caller without the role gets 401 or 403
    whatever they sent, so refusals never depend on (or reveal anything about) the input.
    The principal is kept on the request for :func:`interfaces.rest.deps.get_principal`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        action = declared_action(self)
        if action is None:
            return handler

        async def authorised_handler(request: Request) -> Response:
            system: System = request.app.state.system
            request.state.principal = await to_thread.run_sync(
                _authorised, system, bearer_token(request), action
            )
            return await handler(request)

        return authorised_handler
