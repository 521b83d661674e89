"""Realistic demo data: Chinese enterprises and individuals with valid USCCs and
resident ID numbers, two years of purchases and interactions.

Every event goes through the domain's commands and carries the envelope of the demo
actor, so the demo store is an honest event history (recorded now, business dates in
the past).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

from application.clock import SHANGHAI, Clock, business_today, utc_now
from application.context import CommandContext, Principal, Role
from application.store import Kehu
from domain.base import KehuAggregate
from domain.calendar import YearNotCovered, default_calendar
from domain.campaign import Campaign
from domain.complaint import Complaint
from domain.contract import Contract, Delivery, DisputeResolution, Instalment, Party, Terms
from domain.credit import CreditPolicy, CreditProfile, Decision, business_day
from domain.customer import Customer, CustomerStatus, enterprise_customer_id
from domain.loyalty import default_policy_book
from domain.scorecard import AssessmentInputs
from domain.survey import Survey
from domain.training import Training
from domain.values import (
    USCC,
    USCC_ALPHABET,
    Money,
    resident_id_check_digit,
    uscc_check_character,
)

DEMO_ACTOR = Principal(id="system:demo", role=Role.SYSTEM, name="demo data")

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬辉鹏浩宇晨欣怡子涵梓萱一诺雨泽思远博文佳琪俊熙嘉怡浩然梦瑶"
CITIES = [
    ("杭州", "330100"),
    ("上海", "310000"),
    ("北京", "110000"),
    ("深圳", "440300"),
    ("广州", "440100"),
    ("苏州", "320500"),
    ("成都", "510100"),
    ("武汉", "420100"),
    ("南京", "320100"),
    ("宁波", "330200"),
    ("西安", "610100"),
    ("青岛", "370200"),
]
TRADE_NAMES = [
    "青禾",
    "恒远",
    "瑞丰",
    "华信",
    "博达",
    "金诚",
    "天宇",
    "鼎盛",
    "嘉和",
    "宏图",
    "卓越",
    "新锐",
    "长风",
    "海纳",
    "云帆",
    "中科",
    "安泰",
    "明德",
    "盛世",
    "汇通",
    "东方",
    "锦程",
    "万象",
    "通达",
]
INDUSTRIES = [
    "贸易",
    "科技",
    "实业",
    "电子",
    "机械",
    "食品",
    "医药",
    "物流",
    "建材",
    "信息技术",
    "文化传媒",
    "新材料",
]
COMPANY_FORMS = ["有限公司", "有限公司", "股份有限公司", "有限责任公司"]
PHONE_PREFIXES = [
    "138",
    "139",
    "136",
    "137",
    "150",
    "151",
    "158",
    "186",
    "187",
    "177",
    "199",
    "135",
]
SEGMENTS = ["大客户", "中小企业", "个人客户"]
SOURCES = ["展会", "转介绍", "官网", "电话营销", "微信", "门店"]
CATEGORIES = ["办公用品", "工业设备", "软件服务", "耗材", "培训服务", "维保服务"]
TAGS = ["重点跟进", "华东", "华南", "华北", "西部", "长期合作", "价格敏感", "新客"]
MANAGERS = [("m001", "周敏"), ("m002", "陈涛"), ("m003", "林佳琪"), ("m004", "王浩然")]
SUMMARIES = {
    "visit": ["上门拜访，了解年度采购计划", "走访客户，沟通新品需求", "季度回访，确认服务满意度"],
    "call": ["电话回访，确认到货情况", "电话沟通续约意向", "电话跟进报价"],
    "email": ["邮件发送新品资料", "邮件确认合同条款", "邮件回复售后问题"],
    "feedback": ["客户反馈交付及时", "客户反馈价格偏高", "客户建议增加培训"],
}


def make_uscc(rng: random.Random, division: str) -> str:
    organisation = "".join(rng.choice(USCC_ALPHABET[:10]) for _ in range(8)) + rng.choice(
        USCC_ALPHABET
    )
    body = "91" + division + organisation
    return body + uscc_check_character(body)


def make_resident_id(rng: random.Random, division: str, today: date) -> str:
    birth = today - timedelta(days=rng.randint(22 * 365, 65 * 365))
    body = f"{division}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
    return body + resident_id_check_digit(body)


def make_phone(rng: random.Random) -> str:
    return rng.choice(PHONE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


@dataclass(frozen=True)
class DemoSummary:
    customers: int
    events: int
    last_position: int


def _customer(rng: random.Random, today: date, uuid_source: Callable[[], UUID]) -> Customer:
    city, division = rng.choice(CITIES)
    registered_on = today - timedelta(days=rng.randint(30, 730))
    tags = rng.sample(TAGS, rng.randint(0, 3))
    if rng.random() < 0.6:
        uscc = make_uscc(rng, division)
        name = f"{city}{rng.choice(TRADE_NAMES)}{rng.choice(INDUSTRIES)}{rng.choice(COMPANY_FORMS)}"
        return Customer.register(
            new_id=enterprise_customer_id(USCC.parse(uscc)),
            kind="enterprise",
            name=name,
            phone=make_phone(rng),
            email=f"contact{rng.randint(100, 999)}@{rng.choice(['qinghe', 'hengyuan', 'ruifeng', 'huaxin'])}{rng.randint(1, 99)}.com.cn",
            uscc=uscc,
            source=rng.choice(SOURCES),
            segment=rng.choice(SEGMENTS[:2]),
            tags=tags,
            marketing_consent=rng.random() < 0.7,
            registered_on=registered_on,
        )
    return Customer.register(
        new_id=uuid_source(),
        kind="individual",
        name=person_name(rng),
        phone=make_phone(rng),
        email=f"user{rng.randint(1000, 99999)}@{rng.choice(['qq.com', '163.com', '126.com', 'foxmail.com'])}",
        id_number=make_resident_id(rng, division, today),
        source=rng.choice(SOURCES),
        segment="个人客户",
        tags=tags,
        marketing_consent=rng.random() < 0.5,
        registered_on=registered_on,
    )


VIP_POLICIES = default_policy_book()
CALENDAR = default_calendar()
CHURN_REASONS = [
    ("价格原因转向竞品", "competitor"),
    ("业务调整不再采购", "no_need"),
    ("服务响应不及时", "service"),
    ("认为价格偏高", "price"),
]


def _vip(rng: random.Random, customer: Customer, on: date, today: date, n: int) -> None:
    """A customer who has just come to qualify may apply (会员申请): reviewed, granted and
    notified within a few days — now and then late, and a few still pending."""
    policy = VIP_POLICIES.in_force_or_none(on)
    if (
        policy is None
        or customer.tier is not None
        or customer.open_vip_application is not None
        or customer.status not in (CustomerStatus.ACTIVE, CustomerStatus.WON_BACK)
        or rng.random() < 0.4
    ):
        return
    target = policy.qualifying_tier(customer.basis(on))
    applied = datetime.combine(on + timedelta(days=1), time(10), SHANGHAI)
    if target is None or applied.date() >= today:
        return
    application = f"VIP-{customer.id.hex[:8]}-{n}"
    try:
        customer.apply_for_vip(application, target, applied, policy, CALENDAR)
    except YearNotCovered:  # no State Council notice for that year yet
        return
    review = applied + timedelta(days=rng.randint(1, 4))
    decided = review + timedelta(hours=2)
    if decided.date() >= today:
        return
    customer.start_vip_review(application, rng.choice(MANAGERS)[0], review)
    customer.grant_vip(application, target, ["近12个月消费额及频次达标"], decided, policy)
    notified = decided + timedelta(days=rng.choice([0, 1, 1, 2, 3, 14]))
    if notified.date() < today:
        customer.notify_vip_decision(application, rng.choice(["sms", "phone", "wechat"]), notified)


def _story(rng: random.Random, customer: Customer, today: date) -> None:
    """Two years of a relationship: purchases, interactions, perhaps churn."""
    if rng.random() < 0.7:
        manager = rng.choice(MANAGERS)
        customer.assign_account_manager(*manager)
    start = customer.registered_on
    span = (today - start).days
    enterprise = customer.kind == "enterprise"
    purchases = rng.randint(0, 30 if enterprise else 12)
    churn_day = (
        start + timedelta(days=rng.randint(span // 2, span)) if rng.random() < 0.15 else None
    )
    days = sorted(rng.randint(0, span) for _ in range(purchases))
    for n, offset in enumerate(days):
        on = start + timedelta(days=offset)
        if churn_day and on > churn_day:
            break
        scale = Decimal(
            rng.randint(20_000, 8_000_000) if enterprise else rng.randint(5_000, 300_000)
        )
        amount = Money.parse((scale / 100).quantize(Decimal("0.01")))
        customer.record_purchase(
            f"SO{on:%Y%m%d}-{rng.randint(1000, 9999)}-{n}",
            amount,
            rng.choice(CATEGORIES),
            on,
            VIP_POLICIES.in_force_or_none(on),
        )
        _vip(rng, customer, on, today, n)
    for _ in range(rng.randint(1, 10)):
        kind = rng.choice(list(SUMMARIES))
        on = start + timedelta(days=rng.randint(0, span))
        at = datetime.combine(on, time(rng.randint(9, 17), rng.choice((0, 15, 30, 45))), SHANGHAI)
        customer.record_interaction(kind, rng.choice(SUMMARIES[kind]), at, rng.choice(MANAGERS)[1])
    if churn_day and customer.status != CustomerStatus.PROSPECT:
        if rng.random() < 0.5:
            customer.mark_at_risk("超过90天未下单")
        customer.churn(*rng.choice(CHURN_REASONS))
        if rng.random() < 0.3:
            customer.win_back("大客户回访与专属折扣", rng.choice([None, "CAMP-2026-WINBACK"]))
    elif customer.status == CustomerStatus.ACTIVE and rng.random() < 0.1:
        customer.mark_at_risk("近期投诉增多")
    if rng.random() < 0.5:
        reviewed = today - timedelta(days=rng.randint(0, 300))
        customer.confirm_info_reviewed(
            max(reviewed, customer.registered_on),
            max(reviewed, customer.registered_on) + timedelta(days=365),
        )


COMPLAINTS = {
    "delivery": "订单延迟未到货",
    "product_quality": "产品出现质量问题",
    "service_attitude": "客服态度不好",
    "billing": "发票金额有误",
    "other": "其他问题咨询未解决",
}


def _complaints(
    rng: random.Random, customer: Customer, today: date, uuid_source: Callable[[], UUID]
) -> list[KehuAggregate]:
    """A few complaints over the relationship, handled faster or slower than the SLA, and
    the survey each resolution requests."""
    made: list[KehuAggregate] = []
    span = (today - customer.registered_on).days
    for _ in range(rng.choices((0, 1, 2), weights=(70, 22, 8))[0]):
        day = customer.registered_on + timedelta(days=rng.randint(0, max(span - 1, 0)))
        received = datetime.combine(
            day, time(rng.randint(8, 19), rng.choice((0, 20, 40))), SHANGHAI
        )
        category = rng.choice(list(COMPLAINTS))
        complaint = Complaint.lodge(
            new_id=uuid_source(),
            customer_id=customer.id,
            channel=rng.choice(["phone", "email", "online", "wechat", "in_person", "letter"]),
            category=category,
            severity=rng.choices(["low", "medium", "high", "critical"], weights=(30, 40, 22, 8))[0],
            description=COMPLAINTS[category],
            received_at=received,
        )
        handler = rng.choice(MANAGERS)
        complaint.assign(handler[0], handler[1])
        if (today - day).days < 3 and rng.random() < 0.6:
            made.append(complaint)  # still open
            continue
        moment = received + timedelta(hours=rng.uniform(0.5, 30))
        complaint.acknowledge(moment)
        complaint.record_investigation("核实订单与物流记录", moment + timedelta(hours=1))
        moment += timedelta(hours=rng.uniform(2, 150))
        complaint.resolve("已按处理方案解决", moment)
        moment += timedelta(hours=rng.uniform(1, 24))
        complaint.communicate_result("已解决并致歉", "核实后确认原因并整改", "phone", moment)
        if rng.random() < 0.1:
            complaint.reopen("客户仍不满意", moment + timedelta(days=2))
            moment += timedelta(days=3)
            complaint.resolve("二次处理完成", moment)
            complaint.communicate_result(
                "二次处理", "补偿到位", "phone", moment + timedelta(hours=2)
            )
            moment += timedelta(hours=2)
        complaint.confirm(
            rng.choices([1, 2, 3, 4, 5], weights=(4, 6, 15, 35, 40))[0], moment + timedelta(hours=3)
        )
        complaint.close(moment + timedelta(hours=4))
        made.append(complaint)
        made.append(_survey(rng, customer, today, moment, complaint.id, handler[0]))
    return made


def _survey(
    rng: random.Random,
    customer: Customer,
    today: date,
    resolved: datetime,
    case: UUID,
    handler: str,
) -> Survey:
    """投诉回访 as the policy requests it at the resolution; most customers answer."""
    survey = Survey.request(
        customer_id=customer.id,
        kind="complaint",
        source_id=case,
        channel=rng.choice(["sms", "wechat", "phone"]),
        requested_at=resolved,
        respond_by=business_day(resolved) + timedelta(days=14),
        handler_id=handler,
        segment=customer.segment,
    )
    answered = resolved + timedelta(hours=rng.uniform(2, 200))
    if rng.random() < 0.65 and business_day(answered) <= min(today, survey.respond_by):
        csat = rng.choices([1, 2, 3, 4, 5], weights=(3, 5, 14, 38, 40))[0]
        survey.answer(
            csat=csat,
            scores={
                "product": max(1, min(5, csat + rng.choice((-1, 0, 0, 1)))),
                "service": csat,
                "after_sales": max(1, min(5, csat + rng.choice((-1, 0, 1)))),
            },
            nps=max(0, min(10, csat * 2 + rng.randint(-2, 1))),
            ces=rng.randint(1, 7),
            comment=rng.choice([None, "处理及时", "希望沟通更主动", "满意"]),
            answered_at=answered,
        )
        if csat <= 2:
            survey.add_action(
                action_id="A1",
                description="回访客户并复盘处理流程",
                owner=handler,
                due_on=business_day(answered) + timedelta(days=14),
                at=answered + timedelta(hours=1),
            )
    elif survey.respond_by < today:
        survey.expire(survey.respond_by + timedelta(days=1))
    return survey


STAFF = [("s101", "赵敏"), ("s102", "钱伟"), ("s103", "孙丽"), ("s104", "李强"), ("s105", "周婷")]


def _trainings(rng: random.Random, today: date, uuid_source: Callable[[], UUID]) -> list[Training]:
    """Staff training (培训): a face-to-face course on complaint handling and an online one
    on personal-information protection, attended, assessed before and after, completed."""
    made: list[Training] = []
    for programme, topic, mode, days_ago in (
        ("投诉处理规范", "投诉受理、调查与回访", "face_to_face", 90),
        ("个人信息保护", "《个人信息保护法》与客户数据安全", "online", 30),
    ):
        first = datetime.combine(today - timedelta(days=days_ago), time(14), SHANGHAI)
        training = Training.schedule(
            new_id=uuid_source(),
            programme=programme,
            topic=topic,
            mode=mode,
            trainer="外部讲师",
            sessions=[
                {
                    "number": 1,
                    "starts_at": first,
                    "ends_at": first + timedelta(hours=2),
                    "location": "总部三楼培训室" if mode == "face_to_face" else None,
                },
                {
                    "number": 2,
                    "starts_at": first + timedelta(days=7),
                    "ends_at": first + timedelta(days=7, hours=2),
                    "location": "总部三楼培训室" if mode == "face_to_face" else None,
                },
            ],
            capacity=20,
            pass_score=60,
            at=first - timedelta(days=14),
        )
        for staff_id, name in STAFF + MANAGERS:
            training.enroll(staff_id, name, first - timedelta(days=7))
            training.record_assessment(staff_id, rng.randint(40, 75), "pre", first)
            for session in (1, 2):
                starts = first + timedelta(days=7 * (session - 1))
                training.record_attendance(staff_id, session, rng.random() < 0.9, starts)
            ended = first + timedelta(days=7, hours=2)
            training.record_assessment(staff_id, rng.randint(55, 98), "post", ended)
            training.record_feedback(staff_id, rng.choice([3, 4, 4, 5, 5]), ended)
        training.complete(first + timedelta(days=7, hours=3))
        made.append(training)
    return made


def _campaigns(
    rng: random.Random, customers: list[Customer], today: date, uuid_source: Callable[[], UUID]
) -> list[Campaign]:
    """A year of campaigns (营销活动) with participants, conversions and costs; the older
    ones closed and evaluated."""
    made: list[Campaign] = []
    plans = [
        ("新品发布会", "launch_event", 150, 60_000),
        ("年度客户答谢会", "appreciation_event", 110, 80_000),
        ("双十一促销", "promotion", 40, 30_000),
        ("大客户折扣政策", "discount_policy", 20, 50_000),
    ]
    for n, (name, kind, days_ago, budget) in enumerate(plans):
        starts = today - timedelta(days=days_ago)
        planned = datetime.combine(starts - timedelta(days=20), time(10), SHANGHAI)
        campaign = Campaign.plan(
            new_id=uuid_source(),
            name=name,
            kind=kind,
            segment_criteria={"segments": [], "tiers": [], "statuses": ["active"]},
            budget=Money(Decimal(budget)),
            starts_on=starts,
            ends_on=starts + timedelta(days=14),
            planned_at=planned,
        )
        active = [c for c in customers if c.status == CustomerStatus.ACTIVE]
        if not active:
            continue
        launched = datetime.combine(starts, time(9), SHANGHAI)
        campaign.launch(len(active), launched)
        for customer in rng.sample(active, k=max(1, len(active) // 5)):
            joined = launched + timedelta(days=rng.randint(0, 10), hours=rng.randint(0, 8))
            campaign.record_participation(
                customer.id, rng.choice(["wechat", "sms", "in_person"]), joined
            )
            if rng.random() < 0.3:
                campaign.record_conversion(
                    customer.id,
                    f"CMP{n}-{customer.id.hex[:8]}",
                    Money(Decimal(rng.randint(2_000, 90_000))),
                    rng.random() < 0.2,
                    joined + timedelta(days=1),
                )
        campaign.record_cost(
            Money(Decimal(budget) * Decimal(rng.randint(70, 105)) / 100),
            "场地、物料与推广费用",
            launched + timedelta(days=1),
        )
        if starts + timedelta(days=15) < today:
            ended = datetime.combine(starts + timedelta(days=15), time(18), SHANGHAI)
            campaign.close(ended)
            campaign.evaluate(ended + timedelta(days=2))
        made.append(campaign)
    return made


RISKS = [
    ("financial", "应收账款集中于少数下游客户", "diversify"),
    ("market", "原材料价格波动较大", "transfer"),
    ("credit", "近期付款周期明显拉长", "avoid"),
    ("market", "行业政策调整带来需求不确定", "accept"),
]


def _credit(rng: random.Random, customer: Customer, today: date) -> CreditProfile | None:
    """Enterprises with purchases get a credit profile: an assessment, a limit, orders
    checked (some blocked), invoices, payments, sometimes overdue, and a risk or two."""
    if customer.kind != "enterprise" or customer.status == CustomerStatus.PROSPECT:
        return None
    opened = datetime.combine(
        max(customer.registered_on, today - timedelta(days=400)), time(9, 30), SHANGHAI
    )
    profile = CreditProfile.open(customer_id=customer.id, at=opened)
    assets = rng.randint(2_000, 80_000) * 1000
    on_time, late = rng.randint(5, 80), rng.randint(0, 12)
    inputs = AssessmentInputs.parse(
        {
            "invoices_paid_on_time": on_time,
            "invoices_paid_late": late,
            "overdue_count_12m": min(late, rng.randint(0, 6)),
            "max_overdue_days": rng.choice([0, 0, 10, 25, 45, 75, 120]) if late else 0,
            "total_assets": str(assets),
            "total_liabilities": str(assets * rng.randint(20, 95) // 100),
            "current_assets": str(assets * rng.randint(20, 60) // 100),
            "current_liabilities": str(assets * rng.randint(10, 50) // 100),
            "annual_revenue": str(assets * rng.randint(50, 200) // 100),
            "net_profit": str(assets * rng.randint(-5, 15) // 100),
            "relationship_months": rng.randint(3, 96),
        }
    )
    card = profile.assess(f"demo-{customer.id.hex[:8]}-1", inputs, opened + timedelta(hours=1))
    limits = {"AAA": 900_000, "AA": 600_000, "A": 300_000, "B": 150_000, "C": 50_000, "D": 0}
    limit = Decimal(limits[card.rating.value] // 1000 * rng.randint(6, 10) * 100)
    profile.set_limit(
        request_id="demo",
        limit=limit,
        term_days=rng.choice([30, 45, 60]),
        prepayment_ratio=rng.choice(["0", "0.1", "0.3"]),
        reason="年度授信",
        by=DEMO_ACTOR.id,
        at=opened + timedelta(hours=2),
        policy=CreditPolicy(),
    )
    moment = opened + timedelta(days=1)
    for n in range(rng.randint(1, 6) if limit else 0):
        moment += timedelta(days=rng.randint(5, 50), hours=rng.randint(0, 6))
        if business_day(moment) >= today:
            break
        order = f"SO-{customer.id.hex[:6]}-{n}"
        amount = (limit * rng.randint(5, 60) / 100).quantize(Decimal("0.01"))
        decision = profile.check_order(order, amount, moment, CreditPolicy())
        if decision is not Decision.APPROVED or order not in profile.reservations:
            continue
        invoiced = moment + timedelta(days=rng.randint(1, 10))
        if business_day(invoiced) >= today:
            continue
        invoice = f"INV-{customer.id.hex[:6]}-{n}"
        reserved = profile.reservations[order].amount
        profile.invoice(invoice, order, reserved, business_day(invoiced), invoiced)
        due = profile.invoices[invoice]["due_on"]
        paid = invoiced + timedelta(days=profile.term_days + rng.randint(-20, 40))
        if business_day(paid) > due and due + timedelta(days=1) < today:
            noticed = datetime.combine(due + timedelta(days=1), time(8), SHANGHAI)
            profile.record_overdue(invoice, noticed)
            paid = max(paid, noticed + timedelta(hours=4))
        if business_day(paid) < today and rng.random() < 0.9:
            profile.receive_payment(invoice, reserved, business_day(paid), paid)
        moment = max(moment, invoiced)
    if rng.random() < 0.4:
        dimension, text, response = rng.choice(RISKS)
        likelihood, impact = rng.randint(1, 5), rng.randint(1, 5)
        profile.assess_risk(
            risk_id=f"risk-{customer.id.hex[:6]}",
            dimension=dimension,
            description=text,
            likelihood=likelihood,
            impact=impact,
            response=response,
            owner=rng.choice(MANAGERS)[1],
            review_on=today + timedelta(days=rng.randint(10, 180)),
            at=opened + timedelta(hours=3),
        )
    return profile


SELLER = "杭州客乎科技有限公司"
SELLER_SIGNATORIES = ("刘建国", "孙晓梅")
DISPUTES = [
    DisputeResolution.arbitration("杭州仲裁委员会"),
    DisputeResolution.court("杭州市西湖区人民法院"),
    DisputeResolution.negotiation(),
]


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), SHANGHAI)


def _contract(rng: random.Random, customer: Customer, today: date) -> Contract | None:
    """About half of the enterprises with purchases have a contract (甲方 the customer,
    who pays; 乙方 the seller, who leads), at every stage from draft to settlement."""
    if customer.kind != "enterprise" or customer.status == CustomerStatus.PROSPECT:
        return None
    if rng.random() < 0.5:
        return None
    drafted = max(customer.registered_on, today - timedelta(days=rng.randint(20, 500)))
    start = drafted + timedelta(days=rng.randint(10, 25))
    amount = Decimal(rng.randint(50, 2_000) * 1000)
    shares = (amount * 3 / 10, amount * 4 / 10)
    schedule = [
        Instalment(1, start + timedelta(days=7), Money(shares[0])),
        Instalment(2, start + timedelta(days=120), Money(shares[1])),
        Instalment(3, start + timedelta(days=300), Money(amount - shares[0] - shares[1])),
    ]
    terms = Terms(
        start_date=start,
        end_date=start + timedelta(days=364),
        amount=Money(amount),
        payment_schedule=tuple(schedule),
        delivery=Delivery(rng.choice(CATEGORIES) + "交付及安装调试", start + timedelta(days=60)),
        rectification_days=rng.choice([10, 15, 30]),
        confidentiality_years=rng.choice([2, 3, 5]),
        penalty_rate=rng.choice([Decimal("0.05"), Decimal("0.1"), Decimal("0.2")]),
        dispute_resolution=rng.choice(DISPUTES),
    )
    signatory = person_name(rng)
    contract = Contract.draft(
        number=f"HT-{start.year}-{customer.id.hex[:8].upper()}",
        title=f"{rng.choice(CATEGORIES)}年度供货合同",
        party_a=Party.customer(customer.id, customer.name, [signatory]),
        party_b=Party.organisation(SELLER, SELLER_SIGNATORIES),
        terms=terms,
        leading_party="b",
        payer="a",
        drafted_at=_at(drafted),
    )
    stage = rng.random()
    if stage < 0.08 or start > today:
        return contract
    contract.submit_for_review(_at(drafted + timedelta(days=1)))
    if stage < 0.15:
        return contract
    contract.approve("legal:demo", _at(drafted + timedelta(days=3)), "条款符合公司合同范本")
    contract.sign("b", SELLER_SIGNATORIES[0], _at(drafted + timedelta(days=5)), "seal")
    contract.sign("a", signatory, _at(drafted + timedelta(days=6), 15), "e_signature")
    contract.activate(_at(start, 0))
    last = min(today, terms.end_date)
    if stage < 0.35 and (last - start).days > 40:
        effective = start + timedelta(days=rng.randint(30, (last - start).days - 5))
        contract.propose_amendment(
            1,
            {"rectification_days": terms.rectification_days + 15, "confidentiality_years": 5},
            effective,
            "双方协商延长整改期限及保密期限",
            _at(effective - timedelta(days=3)),
        )
        contract.sign_amendment(
            1, "b", SELLER_SIGNATORIES[1], _at(effective - timedelta(days=2)), "seal"
        )
        contract.sign_amendment(
            1, "a", signatory, _at(effective - timedelta(days=1)), "e_signature"
        )
    for item in schedule:
        if item.due_date >= today:
            break
        delay = rng.randint(-10, 0) if rng.random() < 0.8 else rng.randint(3, 40)
        paid_on = item.due_date + timedelta(days=delay)
        late = paid_on > item.due_date
        if late and item.due_date + timedelta(days=1) <= today:
            contract.mark_payment_overdue(item.number, item.due_date + timedelta(days=1))
        if not late or (rng.random() < 0.7 and paid_on < today):
            reference = f"BANK-{rng.randint(10**7, 10**8)}"
            contract.record_payment(item.number, item.amount, paid_on, reference)
    if terms.delivery.due_date < today:
        contract.accept_delivery(_at(terms.delivery.due_date), "验收合格")
    if rng.random() < 0.1 and start + timedelta(days=30) < today:
        contract.record_breach(
            "a", "逾期付款超过30日", Money(amount / 10), _at(start + timedelta(days=30))
        )
    if terms.end_date < today:
        contract.terminate("expiry", _at(terms.end_date + timedelta(days=1), 8))
        settled = terms.end_date + timedelta(days=rng.randint(5, 20))
        if settled < today:
            contract.settle(_at(settled))
    return contract


def seed(
    store: Kehu,
    *,
    customers: int = 300,
    seed_value: int = 20250101,
    clock: Clock = utc_now,
    batch: int = 50,
    progress: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Write the demo history: ``customers`` customers, saved ``batch`` at a time."""
    rng = random.Random(seed_value)  # noqa: S311 - demo data, not security
    today = business_today(clock)

    def uuid_source() -> UUID:
        return UUID(int=rng.getrandbits(128), version=4)

    ctx = CommandContext.for_principal(DEMO_ACTOR, reason="demo data")
    events = 0
    last = 0
    everyone: list[Customer] = []
    for chunk in _chunks(customers, batch):
        made: list[KehuAggregate] = []
        for _ in range(chunk):
            customer = _customer(rng, today, uuid_source)
            everyone.append(customer)
            _story(rng, customer, today)
            made.append(customer)
            made.extend(_complaints(rng, customer, today, uuid_source))
            profile = _credit(rng, customer, today)
            if profile is not None:
                made.append(profile)
            contract = _contract(rng, customer, today)
            if contract is not None:
                made.append(contract)
        events += sum(len(aggregate.pending_events) for aggregate in made)
        last = store.record_many(ctx, "demo.seed", made)
        if progress is not None:
            progress(chunk)
    department: list[KehuAggregate] = [
        *_campaigns(rng, everyone, today, uuid_source),
        *_trainings(rng, today, uuid_source),
    ]
    events += sum(len(aggregate.pending_events) for aggregate in department)
    last = store.record_many(ctx, "demo.seed", department)
    return DemoSummary(customers=customers, events=events, last_position=last)


def _chunks(total: int, size: int) -> Iterator[int]:
    while total > 0:
        yield min(size, total)
        total -= size
