"""The one place that wires kehu together: settings → event store, read-model store,
projections, application services."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from uuid import UUID

from application.audit import Sealer, sealer_for
from application.campaigns import CampaignService
from application.clock import Clock, utc_now
from application.complaints import ComplaintService
from application.contracts import ContractService
from application.credit import CreditService
from application.customers import CustomerService
from application.disclosures import DisclosureService
from application.errors import ProjectionTimeout
from application.forecast import ForecastService
from application.keys import ApiKeys
from application.log_privacy import install as mask_personal_data_in_logs
from application.membership import MembershipService
from application.pipl import PiplService
from application.policies import (
    AtRiskRule,
    ContractDeadlines,
    CreditOverdue,
    MembershipCalendar,
    Scheduler,
    SlaEscalation,
    SurveyExpiry,
    SurveyOnResolution,
)
from application.service_requests import ServiceRequestService
from application.settings import Settings
from application.store import Kehu
from application.subject_keys import master_keys_for
from application.surveys import SurveyService
from application.trainings import TrainingService
from domain.calendar import BusinessCalendar, default_calendar
from domain.credit import CreditPolicy
from domain.loyalty import VipPolicyBook, load_policy_book
from domain.sla import SlaPolicy, default_policy, policy_from_dict
from domain.values import Money
from interfaces.asof import AsOfViews, LiveCache
from projections.analytics import AnalyticsProjection, AnalyticsQueries
from projections.audit import AuditQueries, AuditTrailProjection
from projections.base import KehuProjection, ProjectionWorker, ViewStore, wait_for_position
from projections.campaigns import CampaignProjection, CampaignQueries
from projections.complaints import ComplaintProjection, ComplaintQueries
from projections.contracts import ContractProjection, ContractQueries
from projections.credit import CreditProjection, CreditQueries
from projections.customers import CustomerFilter, CustomerProjection, CustomerQueries
from projections.dashboard import (
    VIEWS_READ,
    DashboardProjection,
    DashboardQueries,
    Target,
    targets_from_dict,
)
from projections.disclosures import DisclosureProjection, DisclosureQueries
from projections.membership import MembershipProjection, MembershipQueries
from projections.satisfaction import SurveyProjection, SurveyQueries
from projections.service_requests import ServiceRequestProjection, ServiceRequestQueries
from projections.trainings import TrainingProjection, TrainingQueries

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
    membership: MembershipService
    surveys: SurveyService
    campaigns: CampaignService
    trainings: TrainingService
    keys: ApiKeys
    #: A person's PIPL requests: copy, correction, restriction, erasure.
    pipl: PiplService
    customer_queries: CustomerQueries
    complaint_queries: ComplaintQueries
    service_request_queries: ServiceRequestQueries
    credit_queries: CreditQueries
    contract_queries: ContractQueries
    audit_queries: AuditQueries
    membership_queries: MembershipQueries
    vip_policies: VipPolicyBook
    at_risk: AtRiskRule
    calendar: BusinessCalendar
    sla_policy: SlaPolicy
    scheduler: Scheduler
    survey_queries: SurveyQueries
    campaign_queries: CampaignQueries
    training_queries: TrainingQueries
    dashboard_queries: DashboardQueries
    #: The dashboard's read models as of a past moment (replayed, cached).
    as_of_views: AsOfViews[Queries]
    #: The live dashboard's figures while no read model moved (KEHU_DASHBOARD_CACHE_SECONDS).
    dashboard_cache: LiveCache[Any]
    disclosures: DisclosureService
    disclosure_queries: DisclosureQueries
    worker: ProjectionWorker | None = field(default=None)
    #: Hash-chains the stored events and signs checkpoints (tamper evidence).
    sealer: Sealer | None = field(default=None)

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
        if self.sealer is not None:
            self.sealer.start()

    def start_scheduler(self) -> None:
        """Time-driven policies (SLA escalation, …) as the system actor."""
        self.scheduler.start()

    def catch_up(self) -> int:
        """Bring every read model up to date now (tests, CLI)."""
        worker = self.projection_worker()
        seen = sum(worker.catch_up(p) for p in self.projections)
        if self.sealer is not None:
            self.sealer.seal()
        return seen

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
        if self.sealer is not None:
            self.sealer.stop()
        self.as_of_views.close()
        self.views.close()
        self.store.factory.close()


@dataclass(frozen=True)
class Queries:
    """The read side over one read-model store: the live one, or a scratch store replayed
    up to a past position (:mod:`interfaces.asof`)."""

    customer_queries: CustomerQueries
    complaint_queries: ComplaintQueries
    service_request_queries: ServiceRequestQueries
    credit_queries: CreditQueries
    contract_queries: ContractQueries
    audit_queries: AuditQueries
    membership_queries: MembershipQueries
    survey_queries: SurveyQueries
    campaign_queries: CampaignQueries
    training_queries: TrainingQueries
    dashboard_queries: DashboardQueries


def make_queries(
    views: ViewStore,
    *,
    calendar: BusinessCalendar,
    sla_policy: SlaPolicy,
    kpi_targets: Mapping[str, Target] | None,
) -> Queries:
    """Every query object over ``views``."""
    complaints = ComplaintQueries(views, calendar, sla_policy)
    contracts = ContractQueries(views)
    membership = MembershipQueries(views)
    surveys = SurveyQueries(views)
    campaigns = CampaignQueries(views)
    return Queries(
        customer_queries=CustomerQueries(views),
        complaint_queries=complaints,
        service_request_queries=ServiceRequestQueries(views, calendar, sla_policy),
        credit_queries=CreditQueries(views),
        contract_queries=contracts,
        audit_queries=AuditQueries(views),
        membership_queries=membership,
        survey_queries=surveys,
        campaign_queries=campaigns,
        training_queries=TrainingQueries(views),
        dashboard_queries=DashboardQueries(
            views,
            surveys=surveys,
            campaigns=campaigns,
            complaints=complaints,
            contracts=contracts,
            membership=membership,
            targets=kpi_targets,
        ),
    )


@contextmanager
def _postgres(url: str) -> Iterator[Any]:
    """An autocommit connection to the database of ``url``, for schema DDL."""
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
        yield conn


def _create_postgres_schema(url: str, schema: str, *, fresh: bool = False) -> None:
    """Create the schema (``fresh``: drop whatever it held first)."""
    with _postgres(url) as conn:
        if fresh:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
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
    mask_personal_data_in_logs()  # every process that runs kehu, API workers included
    if settings.store == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Kehu(
        settings.event_store_env(create_table=create_tables),
        command_retries=settings.command_retries,
        master_keys=master_keys_for(settings, create=True),
        key_cache_seconds=settings.subject_key_cache_seconds,
    )
    if create_tables:
        store.keys.table.create()
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
        AuditTrailProjection(views),
        MembershipProjection(views),
        AnalyticsProjection(views),
        SurveyProjection(views),
        CampaignProjection(views),
        TrainingProjection(views),
        DashboardProjection(views),
        DisclosureProjection(views),
    ]
    kpi_targets = (
        targets_from_dict(json.loads(settings.kpi_targets_file.read_text(encoding="utf-8")))
        if settings.kpi_targets_file
        else None
    )

    def queries_over(store_of_views: ViewStore) -> Queries:
        return make_queries(
            store_of_views, calendar=calendar, sla_policy=policy, kpi_targets=kpi_targets
        )

    queries = queries_over(views)
    complaint_queries = queries.complaint_queries
    request_queries = queries.service_request_queries
    credit_queries = queries.credit_queries
    customer_queries = queries.customer_queries
    contract_queries = queries.contract_queries
    membership_queries = queries.membership_queries
    survey_queries = queries.survey_queries
    complaints = ComplaintService(store, clock)
    service_requests = ServiceRequestService(store, clock)
    credit = CreditService(
        store,
        clock,
        CreditPolicy(
            approval_threshold=Money(settings.credit_approval_threshold),
            overdue_tolerance_days=settings.credit_overdue_tolerance_days,
        ),
    )
    assembled: list[System] = []

    def records_of(customer_id: UUID, position: int) -> list[UUID]:
        assembled[0].wait_for(position)  # the views must hold everything up to the package
        return customer_queries.records_of(customer_id)

    contracts = ContractService(store, clock, records_of)

    def subject_records(customer_id: UUID) -> list[UUID]:
        assembled[0].wait_for(store.max_position())
        return customer_queries.subject_records(customer_id)

    vip_policies = load_policy_book(settings.vip_policy_file)
    membership = MembershipService(store, clock, vip_policies, default_calendar())

    def count_segment(criteria: Mapping[str, Sequence[str]]) -> int:
        """How many customers match a campaign's segment criteria now: segment and status
        from the customer view, the VIP tier from the membership view (an empty list:
        any)."""
        where = CustomerFilter(
            segment=list(criteria.get("segments") or []) or None,
            status=list(criteria.get("statuses") or []) or None,
        )
        tiers = set(criteria.get("tiers") or [])
        if not tiers:
            return customer_queries.page(where, limit=1)[1]
        matched, offset = 0, 0
        while True:
            rows, total = customer_queries.page(where, offset=offset, limit=500)
            for row in rows:
                member = membership_queries.get(row.id)
                if member is not None and member.tier in tiers:
                    matched += 1
            offset += len(rows)
            if not rows or offset >= total:
                return matched

    surveys = SurveyService(store, clock)
    at_risk = AtRiskRule(
        quiet_days=settings.at_risk_quiet_days,
        complaints=settings.at_risk_complaints,
        complaint_window_days=settings.at_risk_complaint_window_days,
        low_rating=settings.at_risk_low_rating,
    )

    def at_risk_candidates(today: date) -> list[tuple[str, list[str], str]]:
        return membership_queries.at_risk_candidates(
            today,
            quiet_days=at_risk.quiet_days,
            complaint_count=at_risk.complaints,
            complaint_window_days=at_risk.complaint_window_days,
            low_rating=at_risk.low_rating,
        )

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
            MembershipCalendar(
                "membership",
                membership,
                tiers_due=membership_queries.tiers_due,
                points_due=membership_queries.points_due,
                coupons_due=membership_queries.coupons_due,
                at_risk=at_risk_candidates,
                clock=clock,
            ),
            SurveyOnResolution(
                "survey-on-resolution", surveys, survey_queries.cases_without_survey, clock
            ),
            SurveyExpiry("survey-expiry", surveys, survey_queries.unanswered_past_due, clock),
        ],
        interval=settings.scheduler_interval,
    )
    system = System(
        settings=settings,
        store=store,
        views=views,
        projections=projections,
        customers=CustomerService(store, clock, vip_policies),
        complaints=complaints,
        service_requests=service_requests,
        credit=credit,
        contracts=contracts,
        membership=membership,
        surveys=surveys,
        campaigns=CampaignService(store, clock, count_segment=count_segment),
        trainings=TrainingService(store, clock),
        keys=ApiKeys(store),
        pipl=PiplService(store, subject_records, clock),
        customer_queries=customer_queries,
        complaint_queries=complaint_queries,
        service_request_queries=request_queries,
        credit_queries=credit_queries,
        contract_queries=contract_queries,
        audit_queries=queries.audit_queries,
        membership_queries=membership_queries,
        vip_policies=vip_policies,
        at_risk=at_risk,
        calendar=calendar,
        sla_policy=policy,
        scheduler=scheduler,
        survey_queries=survey_queries,
        campaign_queries=queries.campaign_queries,
        training_queries=queries.training_queries,
        dashboard_queries=queries.dashboard_queries,
        as_of_views=AsOfViews(
            live=queries,
            projections=[p for p in projections if p.name in VIEWS_READ],
            audit=next(p for p in projections if isinstance(p, AuditTrailProjection)),
            audit_queries=queries.audit_queries,
            worker=ProjectionWorker(store.recorder, store.mapper, []),
            head=store.max_position,
            open_scratch=lambda label: scratch_views(settings, label),
            drop_scratch=lambda label: drop_scratch_views(settings, label),
            queries_for=queries_over,
            clock=clock,
            size=settings.asof_cache_size,
            timeout=settings.min_position_timeout,
        ),
        disclosures=DisclosureService(store, clock),
        disclosure_queries=DisclosureQueries(views),
        sealer=sealer_for(store.recorder, settings, create_tables=create_tables, clock=clock),
        dashboard_cache=LiveCache(settings.dashboard_cache_seconds),
    )
    assembled.append(system)
    return system


def forecasting(system: System, clock: Clock = utc_now) -> ForecastService:
    """The forecasting models (purchase forecast, churn risk) over the analytics views."""
    return ForecastService(AnalyticsQueries(system.views), clock)


def scratch_views(settings: Settings, label: str) -> ViewStore:
    """An empty read-model store beside the live one — a SQLite file in the data dir, or a
    PostgreSQL schema ``<schema>_<label>`` — for a verified rebuild or a past position.
    Whatever it held before is dropped."""
    if settings.store == "postgres":
        url = settings.read_database_url or settings.database_url
        assert url is not None
        schema = f"{settings.postgres_schema}_{label}"
        _create_postgres_schema(url.get_secret_value(), schema, fresh=True)
        env = settings.read_model_env(create_table=True)
        env["POSTGRES_SCHEMA"] = schema
        return ViewStore(env)
    path, *_ = leftovers = _scratch_files(settings, label)
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    env = settings.read_model_env(create_table=True)
    env["SQLITE_DBNAME"] = str(path)
    return ViewStore(env)


def drop_scratch_views(settings: Settings, label: str) -> None:
    """Drop what :func:`scratch_views` made for ``label`` (close its store first)."""
    if settings.store == "postgres":
        url = settings.read_database_url or settings.database_url
        assert url is not None
        with _postgres(url.get_secret_value()) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{settings.postgres_schema}_{label}" CASCADE')
        return
    for path in _scratch_files(settings, label):
        path.unlink(missing_ok=True)


def _scratch_files(settings: Settings, label: str) -> list[Path]:
    path = settings.data_dir / f"readmodels-{label}.sqlite"
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
