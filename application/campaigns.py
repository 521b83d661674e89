"""Marketing campaigns (营销活动): plan, launch, participation, conversions, costs, close
and the evaluation of their effect (效果评估). The marketing section (营销管理科) runs them.

Input arrives as plain data: amounts as decimal text in the campaign's currency (given
once, with the budget, when it is planned), dates as :class:`~datetime.date`. The number
of customers a campaign targets is counted at launch from the read models by the injected
``count_segment`` (see :mod:`interfaces.bootstrap`), and recorded on the launch, so the
evaluation's participation rate never changes with later registrations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from uuid import UUID, uuid4

from application.clock import Clock, utc_now
from application.context import CommandContext
from application.permissions import authorize
from application.service import ContextService
from application.store import CommandResult, Kehu
from domain.campaign import Campaign, InvalidCampaignField
from domain.customer import Customer
from domain.values import Money

#: Given segment criteria ``{segments, tiers, statuses}`` (an empty list: any), how many
#: customers match them now.
SegmentCounter = Callable[[Mapping[str, Sequence[str]]], int]


def _money(field: str, value: object, currency: str) -> Money:
    if isinstance(value, Money):
        return value
    if value is None:
        raise InvalidCampaignField(f"{field} is required", field=field)
    return Money.parse(value, currency)


class CampaignService(ContextService[Campaign]):
    kind = Campaign
    context = "campaigns"

    def __init__(
        self, store: Kehu, clock: Clock = utc_now, *, count_segment: SegmentCounter
    ) -> None:
        super().__init__(store, clock)
        self.count_segment = count_segment

    def plan(
        self,
        ctx: CommandContext,
        *,
        name: str,
        kind: str,
        budget: str,
        starts_on: date,
        ends_on: date,
        segment_criteria: Mapping[str, Sequence[str]] | None = None,
        currency: str = "CNY",
        at: datetime | None = None,
    ) -> CommandResult:
        """活动策划: for a segment, with a budget and a period."""
        authorize(ctx.principal, "campaigns.plan")
        moment = self.now(at)
        amount = _money("budget", budget, currency)
        new_id = uuid4()
        return self._create(
            ctx,
            "campaigns.plan",
            lambda: Campaign.plan(
                new_id=new_id,
                name=name,
                kind=kind,
                segment_criteria=segment_criteria,
                budget=amount,
                starts_on=starts_on,
                ends_on=ends_on,
                planned_at=moment,
            ),
        )

    def revise(
        self,
        ctx: CommandContext,
        campaign: UUID,
        *,
        name: str | None = None,
        kind: str | None = None,
        segment_criteria: Mapping[str, Sequence[str]] | None = None,
        budget: str | None = None,
        starts_on: date | None = None,
        ends_on: date | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        """修订活动方案 while planned: only what is given changes."""
        moment = self.now(at)
        return self._act(
            ctx,
            "campaigns.revise",
            campaign,
            lambda c: c.revise(
                moment,
                name=name,
                kind=kind,
                segment_criteria=segment_criteria,
                budget=None if budget is None else _money("budget", budget, c.budget.currency),
                starts_on=starts_on,
                ends_on=ends_on,
            ),
        )

    def launch(
        self, ctx: CommandContext, campaign: UUID, *, at: datetime | None = None
    ) -> CommandResult:
        """活动启动: the customers matching the segment now are counted and recorded."""
        moment = self.now(at)
        return self._act(
            ctx,
            "campaigns.launch",
            campaign,
            lambda c: c.launch(self.count_segment(c.segment_criteria), moment),
        )

    def record_participation(
        self,
        ctx: CommandContext,
        campaign: UUID,
        *,
        customer_id: UUID,
        channel: str,
        at: datetime | None = None,
    ) -> CommandResult:
        """参与: once per customer (who must exist)."""
        authorize(ctx.principal, "campaigns.record_participation")
        self.store.load(customer_id, Customer)  # 404 for an unknown customer
        moment = self.now(at)
        return self._act(
            ctx,
            "campaigns.record_participation",
            campaign,
            lambda c: c.record_participation(customer_id, channel, moment),
        )

    def record_conversion(
        self,
        ctx: CommandContext,
        campaign: UUID,
        *,
        customer_id: UUID,
        order_ref: str,
        revenue: str,
        new_customer: bool = False,
        at: datetime | None = None,
    ) -> CommandResult:
        """转化: a participant's order with its revenue; ``new_customer`` when the campaign
        acquired the customer."""
        moment = self.now(at)
        return self._act(
            ctx,
            "campaigns.record_conversion",
            campaign,
            lambda c: c.record_conversion(
                customer_id,
                order_ref,
                _money("revenue", revenue, c.budget.currency),
                new_customer,
                moment,
            ),
        )

    def record_cost(
        self,
        ctx: CommandContext,
        campaign: UUID,
        *,
        amount: str,
        description: str,
        at: datetime | None = None,
    ) -> CommandResult:
        """活动费用, until the campaign is evaluated."""
        moment = self.now(at)
        return self._act(
            ctx,
            "campaigns.record_cost",
            campaign,
            lambda c: c.record_cost(
                _money("amount", amount, c.budget.currency), description, moment
            ),
        )

    def close(
        self, ctx: CommandContext, campaign: UUID, *, at: datetime | None = None
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(ctx, "campaigns.close", campaign, lambda c: c.close(moment))

    def evaluate(
        self, ctx: CommandContext, campaign: UUID, *, at: datetime | None = None
    ) -> CommandResult:
        """效果评估 of a closed campaign, once."""
        moment = self.now(at)
        return self._act(ctx, "campaigns.evaluate", campaign, lambda c: c.evaluate(moment))
