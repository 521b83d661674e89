"""The one place that wires kehu together: settings → event store, read-model store,
projections, application services."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit
from uuid import UUID

from application.clock import Clock, utc_now
from application.complaints import ComplaintService
from application.contracts import ContractService
from application.credit import CreditService
from application.customers import CustomerService
from application.errors import ProjectionTimeout
from application.keys import ApiKeys
from application.policies import ContractDeadlines, CreditOverdue, Scheduler, SlaEscalation
from application.service_requests import ServiceRequestService
from application.settings import Settings
from application.store import Kehu
from domain.calendar import BusinessCalendar, default_calendar
from domain.credit import CreditPolicy
from domain.sla import SlaPolicy, default_policy, policy_from_dict
from domain.values import Money
from projections.base import KehuProjection, ProjectionWorker, ViewStore, wait_for_position
from projections.complaints import ComplaintProjection, ComplaintQueries
from projections.contracts import ContractProjection, ContractQueries
from projections.credit import CreditProjection, CreditQueries
from projections.customers import CustomerProjection, CustomerQueries
from projections.service_requests import ServiceRequestProjection, ServiceRequestQueries

log = logging.getLogger("kehu")


@dataclass
class System:
    """kehu, assembled."""

    settings: Settings
    store: Kehu
    views: ViewStore
    projections: list[KehuProjection]
    customers: CustomerService
    complaints: ComplaintService
    service_requests: ServiceRequestService
    credit: CreditService
    contracts: ContractService
    keys: ApiKeys
    customer_queries: CustomerQueries
    complaint_queries: ComplaintQueries
    service_request_queries: ServiceRequestQueries
    credit_queries: CreditQueries
    contract_queries: ContractQueries
    calendar: BusinessCalendar
    sla_policy: SlaPolicy
    scheduler: Scheduler
    worker: ProjectionWorker | None = field(default=None)

    def projection_worker(self) -> ProjectionWorker:
        return ProjectionWorker(
            self.store.recorder,
            self.store.mapper,
            self.projections,
            batch_size=self.settings.projection_batch_size,
            poll_interval=self.settings.projection_poll_interval,
        )

    def start_projections(self) -> None:
        if self.worker is None:
            self.worker = self.projection_worker()
            self.worker.start()

    def start_scheduler(self) -> None:
        """Time-driven policies (SLA escalation, …) as the system actor."""
        self.scheduler.start()

    def catch_up(self) -> int:
        """Bring every read model up to date now (tests, CLI)."""
        worker = self.projection_worker()
        return sum(worker.catch_up(p) for p in self.projections)

    def wait_for(self, position: int | None, timeout: float | None = None) -> None:
        """Read-your-writes: wait, bounded, until the read models reach ``position``."""
        if not position:
            return
        limit = self.settings.min_position_timeout if timeout is None else timeout
        if not wait_for_position(self.projections, position, limit):
            behind = min(p.position() for p in self.projections)
            raise ProjectionTimeout(
                f"the read models reached position {behind}, not {position},"
                f" within {limit:g} s; retry shortly",
                min_position=position,
                current_position=behind,
            )

    def projection_lag(self) -> dict[str, int]:
        head = self.store.max_position()
        return {p.name: max(0, head - p.position()) for p in self.projections}

    def close(self) -> None:
        self.scheduler.stop()
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        self.views.close()
        self.store.factory.close()


def _create_postgres_schema(url: str, schema: str) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(
        dbname=unquote(parts.path.lstrip("/")) or "postgres",
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password or ""),
        autocommit=True,
    ) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')


def init_storage(settings: Settings) -> None:
    """Create every table once (``kehu db init``; first start on SQLite). Run it in one
    process before starting workers: concurrent creation races in PostgreSQL."""
    if settings.store == "postgres":
        for url in {settings.database_url, settings.read_database_url} - {None}:
            assert url is not None
            _create_postgres_schema(url.get_secret_value(), settings.postgres_schema)
    system = build(settings, create_tables=True)
    try:
        for projection in system.projections:
            system.views.create_tables(projection.ddl())
    finally:
        system.close()


def build(settings: Settings, *, create_tables: bool = False, clock: Clock = utc_now) -> System:
    """Assemble kehu. Tables are not created unless asked (see :func:`init_storage`)."""
    if settings.store == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Kehu(
        settings.event_store_env(create_table=create_tables),
        command_retries=settings.command_retries,
    )
    views = ViewStore(settings.read_model_env(create_table=create_tables))
    calendar = default_calendar(lenient=True)  # views must not stall on next year's notice
    policy = (
        policy_from_dict(json.loads(settings.sla_policy_file.read_text(encoding="utf-8")))
        if settings.sla_policy_file
        else default_policy()
    )
    projections: list[KehuProjection] = [
        CustomerProjection(views),
        ComplaintProjection(views, calendar, policy),
        ServiceRequestProjection(views, calendar, policy),
        CreditProjection(views),
        ContractProjection(views),
    ]
    complaints = ComplaintService(store, clock)
    complaint_queries = ComplaintQueries(views, calendar, policy)
    service_requests = ServiceRequestService(store, clock)
    request_queries = ServiceRequestQueries(views, calendar, policy)
    credit = CreditService(
        store,
        clock,
        CreditPolicy(
            approval_threshold=Money(settings.credit_approval_threshold),
            overdue_tolerance_days=settings.credit_overdue_tolerance_days,
        ),
    )
    credit_queries = CreditQueries(views)
    customer_queries = CustomerQueries(views)
    contract_queries = ContractQueries(views)
    assembled: list[System] = []

    def records_of(customer_id: UUID, position: int) -> list[UUID]:
        assembled[0].wait_for(position)  # the views must hold everything up to the package
        return customer_queries.records_of(customer_id)

    contracts = ContractService(store, clock, records_of)
    scheduler = Scheduler(
        [
            SlaEscalation("sla-escalation", complaints, complaint_queries.open_running, clock),
            SlaEscalation(
                "service-request-sla", service_requests, request_queries.open_running, clock
            ),
            CreditOverdue("credit-overdue", credit, credit_queries.past_due, clock),
            ContractDeadlines(
                "contract-deadlines", contracts, contract_queries.scheduler_candidates, clock
            ),
        ],
        interval=settings.scheduler_interval,
    )
    system = System(
        settings=settings,
        store=store,
        views=views,
        projections=projections,
        customers=CustomerService(store, clock),
        complaints=complaints,
        service_requests=service_requests,
        credit=credit,
        contracts=contracts,
        keys=ApiKeys(store),
        customer_queries=customer_queries,
        complaint_queries=complaint_queries,
        service_request_queries=request_queries,
        credit_queries=credit_queries,
        contract_queries=contract_queries,
        calendar=calendar,
        sla_policy=policy,
        scheduler=scheduler,
    )
    assembled.append(system)
    return system
