"""The read side in GraphQL (Strawberry): dashboards and lists built from read models.

It never changes state. Every query accepts ``minPosition`` (or the
``X-Kehu-Min-Position`` header): the answer reflects at least that global position, or
the request fails with ``read.min_position_timeout``.
"""

from __future__ import annotations

import strawberry
from anyio import to_thread
from fastapi import Request
from strawberry.fastapi import GraphQLRouter
from strawberry.tools import merge_types

from application.context import Principal
from application.errors import ApplicationError
from interfaces.bootstrap import System
from interfaces.graphql.aggregates import AggregateQuery
from interfaces.graphql.audit import AuditQuery
from interfaces.graphql.campaigns import CampaignQuery
from interfaces.graphql.common import Context
from interfaces.graphql.complaints import ComplaintQuery
from interfaces.graphql.contracts import ContractQuery
from interfaces.graphql.credit import CreditQuery
from interfaces.graphql.customers import CustomerQuery
from interfaces.graphql.dashboard import DashboardQuery
from interfaces.graphql.disclosures import DisclosureExtension, DisclosureQuery
from interfaces.graphql.forecast import ForecastQuery
from interfaces.graphql.limits import GraphQLLimits
from interfaces.graphql.membership import MembershipQuery
from interfaces.graphql.satisfaction import SurveyQuery
from interfaces.graphql.service_requests import ServiceRequestQuery
from interfaces.graphql.trainings import TrainingQuery
from interfaces.rest.common import whole_number
from interfaces.rest.problems import ProblemError

Query = merge_types(
    "Query",
    (
        CustomerQuery,
        ComplaintQuery,
        ServiceRequestQuery,
        CreditQuery,
        ContractQuery,
        AuditQuery,
        MembershipQuery,
        SurveyQuery,
        CampaignQuery,
        TrainingQuery,
        DashboardQuery,
        ForecastQuery,
        AggregateQuery,
        DisclosureQuery,
    ),
)
schema = strawberry.Schema(query=Query, extensions=[GraphQLLimits, DisclosureExtension])


def graphql_router() -> GraphQLRouter[Context, None]:
    async def get_context(request: Request) -> Context:
        system: System = request.app.state.system
        principal: Principal | None = None
        error: ApplicationError | None = None
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        try:
            principal = await to_thread.run_sync(
                system.keys.authenticate, token.strip() if scheme.lower() == "bearer" else None
            )
        except ApplicationError as refused:
            error = refused
        raw_position = request.headers.get("x-kehu-min-position")
        min_position = None
        if raw_position is not None:
            min_position = whole_number(raw_position)
            if min_position is None:
                raise ProblemError(
                    400,
                    "validation.min_position",
                    "Invalid X-Kehu-Min-Position",
                    "X-Kehu-Min-Position takes a global position (a whole number)",
                )
        return Context(system, principal, error, min_position)

    return GraphQLRouter(schema, context_getter=get_context, graphql_ide="graphiql")
