"""Routes every aggregate's collection shares: ``POST /{id}/<action>`` commands, and the
auditors' reads ``GET /{id}`` (now, ``?version=``, ``?as_of=``) and ``GET /{id}/history``."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime

from application.privacy import mask_value, may_see_personal_data
from application.service import ContextService
from application.store import aggregate_state, to_json
from interfaces.bootstrap import System
from interfaces.rest.acting import acts
from interfaces.rest.common import COMMAND_RESPONSES, MAX_SAFE_INT, Body, CommandOut, respond
from interfaces.rest.deps import ContextDep, PrincipalDep, SystemDep
from interfaces.rest.disclosures import DisclosingDep
from interfaces.rest.events import EventOut, history_page
from interfaces.rest.problems import ProblemError

ServiceOf = Callable[[System], ContextService[Any]]


def command_routes(
    router: APIRouter,
    id_name: str,
    service_of: ServiceOf,
    actions: Sequence[tuple[str, str, type[Body]]],
    *,
    context: str,
    acting: Mapping[str, str] | None = None,
) -> None:
    """One ``POST /{id}/<action>`` per action; the service method is the action's name in
    snake case (``record-investigation`` → ``record_investigation``), and so is the matrix
    action it performs in ``context`` (``complaints.record_investigation``) unless
    ``acting`` names another (``{"grant-vip": "customers.review_vip"}``)."""
    for action, summary, model in actions:
        method = action.replace("-", "_")
        matrix_action = (acting or {}).get(action, f"{context}.{method}")

        def endpoint(
            ctx: ContextDep, system: SystemDep, method: str = method, **kwargs: Any
        ) -> JSONResponse:
            service = service_of(system)
            body = kwargs["body"]
            return respond(getattr(service, method)(ctx, kwargs[id_name], **body.model_dump()))

        endpoint.__signature__ = _signature(id_name, model)  # type: ignore[attr-defined]
        endpoint.__name__ = method
        router.add_api_route(
            f"/{{{id_name}}}/{action}",
            endpoint,
            methods=["POST"],
            response_model=CommandOut,
            responses=COMMAND_RESPONSES,
            summary=summary,
            openapi_extra=acts(matrix_action),
        )


def _signature(id_name: str, model: type[Body]) -> Any:
    keyword = inspect.Parameter.KEYWORD_ONLY
    return inspect.Signature(
        [
            inspect.Parameter(id_name, keyword, annotation=UUID),
            inspect.Parameter("body", keyword, annotation=model),
            inspect.Parameter("ctx", keyword, annotation=ContextDep),
            inspect.Parameter("system", keyword, annotation=SystemDep),
        ],
        return_annotation=JSONResponse,
    )


def read_routes(
    router: APIRouter,
    id_name: str,
    label: str,
    service_of: ServiceOf,
    personal: Sequence[str],
    *,
    context: str,
) -> None:
    """``GET /{id}`` (state from the events, now or then; ``<context>.read``) and
    ``GET /{id}/history`` (``<context>.history``)."""

    def get_state(
        principal: PrincipalDep,
        system: SystemDep,
        response: Response,
        disclosing: DisclosingDep,
        as_of: Annotated[AwareDatetime | None, Query(description="State as it stood then")] = None,
        version: Annotated[
            int | None, Query(ge=1, le=MAX_SAFE_INT, description="State at this version")
        ] = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        if as_of is not None and version is not None:
            raise ProblemError(
                422, "validation.as_of_and_version", "Choose one", "give as_of or version, not both"
            )
        aggregate = service_of(system).load(
            principal, kwargs[id_name], version=version, as_of=as_of
        )
        state = aggregate_state(aggregate)
        if not may_see_personal_data(principal.role):
            for name in personal:
                state[name] = mask_value(state.get(name))
        disclosing.aggregate(aggregate, state)
        response.headers["ETag"] = f'"{aggregate.version}"'
        return dict(to_json(state))

    def get_history(
        principal: PrincipalDep,
        system: SystemDep,
        disclosing: DisclosingDep,
        after_version: Annotated[int, Query(ge=0, le=MAX_SAFE_INT)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        **kwargs: Any,
    ) -> list[dict[str, Any]]:
        events = service_of(system).history(
            principal, kwargs[id_name], after_version=after_version, limit=limit
        )
        disclosing.events(events)
        return history_page(events, principal)

    for function in (get_state, get_history):
        signature = inspect.signature(function)
        parameters = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
        parameters.insert(
            0, inspect.Parameter(id_name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=UUID)
        )
        function.__signature__ = signature.replace(parameters=parameters)  # type: ignore[union-attr]
    router.add_api_route(
        f"/{{{id_name}}}",
        get_state,
        methods=["GET"],
        summary=f"One {label} from its events — now, at a past time (`as_of`) or at a version",
        responses={404: {"description": f"No such {label} (then)"}},
        openapi_extra=acts(f"{context}.read"),
    )
    router.add_api_route(
        f"/{{{id_name}}}/history",
        get_history,
        methods=["GET"],
        response_model=list[EventOut],
        summary=f"The {label}'s events with their audit envelopes and positions, oldest first",
        openapi_extra=acts(f"{context}.history"),
    )
