"""The FastAPI application: REST commands, event feed, health, metrics, GraphQL."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from application.settings import Settings
from interfaces.bootstrap import System, build, init_storage
from interfaces.graphql.schema import graphql_router
from interfaces.log_redaction import install_log_redaction
from interfaces.rest import (
    audit,
    campaigns,
    complaints,
    contracts,
    credit,
    customers,
    disclosures,
    events,
    membership,
    privacy,
    problems,
    service_requests,
    surveys,
    trainings,
)
from interfaces.rest.limits import RejectNulCharacters, RequestSizeLimit
from interfaces.rest.metrics import Metrics
from interfaces.rest.problem_docs import document_problems
from interfaces.rest.security import SecurityHeaders

DESCRIPTION = """
kehu (客户) — the event-sourced core of a customer-management system.

Commands are `POST /api/v1/<collection>` (create, 201) and
`POST /api/v1/<collection>/{id}/<action>` (200). Each returns
`{"id", "version", "position", "events"}`.

* `Authorization: Bearer <api key>` on every call (`kehu keys create --role admin`).
* `If-Match: <version>` — refused with 409 `concurrency.version_conflict` if the
  aggregate is at another version.
* `Idempotency-Key: <key>` — a repeat returns the first result and records nothing;
  the same key with another body is 422 `idempotency.key_reused`.
* `X-Correlation-Id`, `X-Causation-Id`, `X-Reason` (percent-encoded UTF-8) go into
  every event's audit envelope.
* Errors are `application/problem+json` with a stable `code`.
* GraphQL (read side) is at `/graphql`; pass the command's `position` as `minPosition`
  or `X-Kehu-Min-Position` to read your own write.
"""


def create_app(system: System | None = None, settings: Settings | None = None) -> FastAPI:
    """The ASGI app. With no ``system`` given it builds one from settings on start-up."""
    owned = system is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nonlocal system
        if system is None:
            effective = settings or Settings()
            if effective.store == "sqlite" and effective.run_projections:
                # The embedded store creates its tables on first start; API workers
                # started by `kehu serve --workers N` find them already made.
                await to_thread.run_sync(init_storage, effective)
            system = await to_thread.run_sync(build, effective)
            if effective.run_projections:
                system.start_projections()
            if effective.run_scheduler:
                system.start_scheduler()
        app.state.system = system
        try:
            yield
        finally:
            if owned and system is not None:
                await to_thread.run_sync(system.close)
                system = None

    app = FastAPI(
        title="kehu",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    if system is not None:
        app.state.system = system
    metrics = Metrics()
    app.state.metrics = metrics
    problems.install(app)
    configured = settings or (system.settings if system is not None else Settings())
    install_log_redaction(configured)
    app.include_router(customers.router)
    app.include_router(privacy.router)
    app.include_router(disclosures.router)
    app.include_router(membership.router)
    app.include_router(complaints.router)
    app.include_router(service_requests.router)
    app.include_router(credit.router)
    app.include_router(contracts.router)
    app.include_router(surveys.router)
    app.include_router(campaigns.router)
    app.include_router(trainings.router)
    app.include_router(events.router)
    app.include_router(audit.router)
    app.include_router(graphql_router(), prefix="/graphql", include_in_schema=False)

    @app.middleware("http")
    async def count_requests(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        metrics.observe(request.method, path, response.status_code, time.perf_counter() - started)
        return response

    # Added last, so outermost: an oversized body is refused before anything reads it, and
    # every answer, a refusal included, carries the security headers.
    app.add_middleware(RejectNulCharacters)
    app.add_middleware(RequestSizeLimit, max_bytes=configured.max_request_bytes)
    app.add_middleware(SecurityHeaders, hsts_max_age=configured.hsts_max_age)
    document_problems(app)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    def readyz(request: Request) -> JSONResponse:
        """Readiness: the event store answers; projection lag per read model."""
        current: System = request.app.state.system
        body: dict[str, Any] = {}
        try:
            body["position"] = current.store.max_position()
            body["projection_lag"] = current.projection_lag()
        except Exception as error:  # report, don't crash: that is what readiness is for
            body = {"status": "unavailable", "error": f"{type(error).__name__}: {error}"}
            return JSONResponse(body, status_code=503)
        failing = dict(current.worker.errors) if current.worker else {}
        body["status"] = "degraded" if failing else "ok"
        if failing:
            body["projection_errors"] = failing
        return JSONResponse(body, status_code=200)

    @app.get("/metrics", tags=["health"], response_class=PlainTextResponse)
    def prometheus(request: Request) -> PlainTextResponse:
        """Prometheus text exposition."""
        current: System = request.app.state.system
        return PlainTextResponse(
            metrics.render(current.store.max_position(), current.projection_lag()),
            media_type="text/plain; version=0.0.4",
        )

    return app
