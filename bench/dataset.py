"""The large data set: real kehu events, with envelopes, through kehu's own aggregates and
``Kehu.record_many`` (many aggregates per ``save()``), then sealed by the audit chain and
projected into every read model.

A customer's story is lighter than the demo's (about ten events a customer rather than
forty), so that 100,000 customers make about 1,000,000 events, as the issue asks:
registration, an account manager, purchases (with points and tier upgrades under the VIP
policy), interactions, and now and then a complaint handled to its close with the survey its
resolution requests.

The set is kept between runs in its own schema of the bench database, named after its
size and the generator's version; a schema that holds a finished set of that name is reused.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg

from application.clock import SHANGHAI, business_today
from application.context import CommandContext
from application.demo import (
    CATEGORIES,
    CITIES,
    COMPANY_FORMS,
    DEMO_ACTOR,
    INDUSTRIES,
    MANAGERS,
    SEGMENTS,
    SOURCES,
    SUMMARIES,
    TRADE_NAMES,
    make_phone,
    make_resident_id,
    make_uscc,
    person_name,
)
from domain.base import KehuAggregate
from domain.complaint import Complaint
from domain.credit import business_day
from domain.customer import Customer, enterprise_customer_id
from domain.loyalty import default_policy_book
from domain.survey import Survey
from domain.values import USCC, Money
from interfaces.bootstrap import System, build, init_storage
from interfaces.cli.progress import Rate, progress_bar
from projections.replay import replay_into

from .common import DATABASE, drop_schema, dsn_for, settings_for

GENERATOR_VERSION = 1
POLICIES = default_policy_book()


@dataclass(frozen=True)
class DataSet:
    schema: str
    customers: int
    events: int
    #: Seconds taken to generate, seal and project it (when it was made).
    timings: dict[str, float]
    reused: bool


def schema_name(customers: int) -> str:
    return f"data_v{GENERATOR_VERSION}_{customers}c"


def _finished(schema: str) -> dict[str, Any] | None:
    with psycopg.connect(dsn_for(DATABASE)) as conn:
        found = conn.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s"
            " AND table_name = 'bench_dataset'",
            (schema,),
        ).fetchone()
        if found is None:
            return None
        row = conn.execute(
            f'SELECT customers, events, timings FROM "{schema}".bench_dataset'
        ).fetchone()
    if row is None:
        return None
    return {"customers": row[0], "events": row[1], "timings": json.loads(row[2])}


def _mark_finished(schema: str, customers: int, events: int, timings: dict[str, float]) -> None:
    with psycopg.connect(dsn_for(DATABASE), autocommit=True) as conn:
        conn.execute(
            f'CREATE TABLE "{schema}".bench_dataset'
            " (customers integer, events bigint, seconds double precision, timings text)"
        )
        conn.execute(
            f'INSERT INTO "{schema}".bench_dataset VALUES (%s, %s, %s, %s)',
            (customers, events, timings["generate"], json.dumps(timings)),
        )


def ensure(customers: int) -> DataSet:
    """The data set of ``customers`` customers: reused if finished, else (re)made."""
    schema = schema_name(customers)
    found = _finished(schema)
    if found is not None and found["customers"] == customers:
        print(f"data set {schema}: reusing {found['events']:,} events")
        init_storage(settings_for(schema))  # tables and indexes added since it was made
        return DataSet(schema, customers, found["events"], found["timings"], reused=True)
    drop_schema(DATABASE, schema)
    settings = settings_for(schema)
    init_storage(settings)
    system = build(settings)
    timings: dict[str, float] = {}
    try:
        started = time.perf_counter()
        events = generate(system, customers)
        timings["generate"] = time.perf_counter() - started
        timings["seal"] = seal(system)
        timings["project"] = project(system)
    finally:
        system.close()
    _mark_finished(schema, customers, events, timings)
    return DataSet(schema, customers, events, timings, reused=False)


def generate(system: System, customers: int, *, batch: int = 100, seed: int = 9) -> int:
    """Write ``customers`` customers' stories, ``batch`` customers (and their complaints
    and surveys) per ``save()``. Returns the number of events."""
    rng = random.Random(seed)  # noqa: S311 - bench data, not security
    today = business_today()
    ctx = CommandContext.for_principal(DEMO_ACTOR, reason="bench data")
    written = 0
    with progress_bar() as bar:
        rate = Rate(bar, bar.add_task("generate customers", total=customers, rate=""), "customers")
        done = 0
        while done < customers:
            size = min(batch, customers - done)
            made: list[KehuAggregate] = []
            for _ in range(size):
                customer = _customer(rng, today)
                _story(rng, customer, today)
                made.append(customer)
                if rng.random() < 0.12:
                    made.extend(_complaint(rng, customer, today))
            count = sum(len(a.pending_events) for a in made)
            system.store.record_many(ctx, "bench.generate", made)
            written += count
            done += size
            rate(size)
    return written


def seal(system: System) -> float:
    """Hash-chain and sign every event (what the running sealer does)."""
    assert system.sealer is not None
    started = time.perf_counter()
    sealed = system.sealer.seal()
    elapsed = time.perf_counter() - started
    print(f"sealed {sealed:,} events in {elapsed:.1f} s ({sealed / elapsed:,.0f}/s)")
    return elapsed


def project(system: System) -> float:
    """Every read model up to the head, reading the log once for all of them."""
    head = system.store.max_position()
    started = time.perf_counter()
    replay_into(
        system.projection_worker(), system.projections, system.views, until=head, batch_size=2000
    )
    elapsed = time.perf_counter() - started
    print(f"read models built over {head:,} events in {elapsed:.1f} s")
    return elapsed


def _uuid(rng: random.Random) -> UUID:
    return UUID(int=rng.getrandbits(128), version=4)


def _customer(rng: random.Random, today: date) -> Customer:
    city, division = rng.choice(CITIES)
    registered_on = today - timedelta(days=rng.randint(30, 730))
    if rng.random() < 0.4:
        uscc = make_uscc(rng, division)
        return Customer.register(
            new_id=enterprise_customer_id(USCC.parse(uscc)),
            kind="enterprise",
            name=f"{city}{rng.choice(TRADE_NAMES)}{rng.choice(INDUSTRIES)}{rng.choice(COMPANY_FORMS)}",
            phone=make_phone(rng),
            uscc=uscc,
            source=rng.choice(SOURCES),
            segment=rng.choice(SEGMENTS[:2]),
            marketing_consent=rng.random() < 0.7,
            registered_on=registered_on,
        )
    return Customer.register(
        new_id=_uuid(rng),
        kind="individual",
        name=person_name(rng),
        phone=make_phone(rng),
        id_number=make_resident_id(rng, division, today),
        source=rng.choice(SOURCES),
        segment="个人客户",
        marketing_consent=rng.random() < 0.5,
        registered_on=registered_on,
    )


def _story(rng: random.Random, customer: Customer, today: date) -> None:
    if rng.random() < 0.7:
        customer.assign_account_manager(*rng.choice(MANAGERS))
    start = customer.registered_on
    span = (today - start).days
    enterprise = customer.kind == "enterprise"
    for n, offset in enumerate(sorted(rng.randint(0, span) for _ in range(rng.randint(0, 8)))):
        on = start + timedelta(days=offset)
        scale = rng.randint(20_000, 8_000_000) if enterprise else rng.randint(5_000, 300_000)
        customer.record_purchase(
            f"SO{on:%Y%m%d}-{n}",
            Money((Decimal(scale) / 100).quantize(Decimal("0.01"))),
            rng.choice(CATEGORIES),
            on,
            POLICIES.in_force_or_none(on),
        )
    for _ in range(rng.randint(0, 4)):
        kind = rng.choice(list(SUMMARIES))
        on = start + timedelta(days=rng.randint(0, span))
        at = datetime.combine(on, clock_time(rng.randint(9, 17), 0), SHANGHAI)
        customer.record_interaction(kind, rng.choice(SUMMARIES[kind]), at, rng.choice(MANAGERS)[1])


def _complaint(rng: random.Random, customer: Customer, today: date) -> list[KehuAggregate]:
    """A complaint handled to its close, and the survey its resolution requests."""
    span = (today - customer.registered_on).days
    day = customer.registered_on + timedelta(days=rng.randint(0, max(span - 3, 0)))
    received = datetime.combine(day, clock_time(rng.randint(9, 17)), SHANGHAI)
    complaint = Complaint.lodge(
        new_id=_uuid(rng),
        customer_id=customer.id,
        channel=rng.choice(["phone", "email", "online", "wechat"]),
        category=rng.choice(["delivery", "product_quality", "service_attitude", "billing"]),
        severity=rng.choice(["low", "medium", "high", "critical"]),
        description="客户反映问题，请尽快处理",
        received_at=received,
    )
    handler = rng.choice(MANAGERS)
    complaint.assign(handler[0], handler[1])
    moment = received + timedelta(hours=rng.uniform(0.5, 20))
    complaint.acknowledge(moment)
    moment += timedelta(hours=rng.uniform(2, 100))
    complaint.resolve("已按处理方案解决", moment)
    complaint.communicate_result("已解决并致歉", "核实后确认原因并整改", "phone", moment)
    complaint.confirm(rng.choice([3, 4, 4, 5, 5]), moment + timedelta(hours=3))
    complaint.close(moment + timedelta(hours=4))
    survey = Survey.request(
        customer_id=customer.id,
        kind="complaint",
        source_id=complaint.id,
        channel="sms",
        requested_at=moment,
        respond_by=business_day(moment) + timedelta(days=14),
        handler_id=handler[0],
        segment=customer.segment,
    )
    answered = moment + timedelta(hours=rng.uniform(2, 100))
    if rng.random() < 0.6 and business_day(answered) <= min(today, survey.respond_by):
        csat = rng.choice([2, 3, 4, 4, 5, 5])
        survey.answer(
            csat=csat,
            scores={"product": csat, "service": csat, "after_sales": csat},
            nps=csat * 2,
            ces=rng.randint(1, 7),
            comment=None,
            answered_at=answered,
        )
    return [complaint, survey]
