"""Satisfaction survey 满意度调查 — requested from a customer (periodically, or after a
complaint or a service request was resolved), answered once with scores, or expired; the
improvement actions (改进措施) it leads to are tracked on it.

Status::

    requested 待回复 ─answer (on or before respond_by)─▶ answered 已回复 ─add / update actions
        └─expire (the scheduler, after respond_by)─▶ expired 已过期

Rules this module holds, with the figures it uses:

- **One survey per resolved case**: a survey of kind ``complaint`` (投诉回访) or
  ``service_request`` (服务回访) has the id :func:`survey_id_for` — ``uuid5`` over the kind
  and the case's id — so however often the policy runs, the event store refuses a second
  survey for the same case. A periodic survey (定期调查) gets an id from the application.
- **What the rating is attributed to** is fixed when the survey is requested: the handler
  of the case *as recorded at its resolution* and the customer's segment then. The answer
  copies them (and the channel), so reassigning the case afterwards never moves a past
  rating to another handler.
- **Scores**: CSAT 1–5 (required); NPS 0–10 and CES 1–7 (optional); per dimension
  (产品 product, 服务 service, 售后 after-sales) 1–5, at least one dimension. All are whole
  numbers.
- **Deadline**: ``respond_by`` is a calendar day (Asia/Shanghai), from the request day up to
  :data:`MAX_RESPONSE_DAYS` days later. An answer whose business day is after
  ``respond_by`` is refused (``survey.expired``) even before the scheduler records the
  expiry; the expiry is recorded once, on a day after ``respond_by``.
- **Time order**: an answer is not before the request; an action is not before the answer;
  an action's update is not before its previous step.
- **Improvement actions** follow an answer (they improve on what it said): open 待处理 →
  in progress 进行中 → done 已完成; done is final.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Final
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.base import DomainError, KehuAggregate, PersonalData
from domain.calendar import business_day as business_day
from domain.guards import Guards

SURVEY_NAMESPACE: Final = uuid5(NAMESPACE_URL, "https://kehu.example/survey")

#: The latest ``respond_by`` is this many days after the request day.
MAX_RESPONSE_DAYS: Final = 90
#: Improvement actions per survey.
MAX_ACTIONS: Final = 50

CSAT_RANGE: Final = (1, 5)
NPS_RANGE: Final = (0, 10)
CES_RANGE: Final = (1, 7)
DIMENSION_RANGE: Final = (1, 5)


# -- vocabularies ---------------------------------------------------------------------


class SurveyKind(StrEnum):
    PERIODIC = "periodic"  # 定期调查
    COMPLAINT = "complaint"  # 投诉回访
    SERVICE_REQUEST = "service_request"  # 服务回访


class SurveyChannel(StrEnum):
    SMS = "sms"  # 短信
    EMAIL = "email"  # 邮件
    PHONE = "phone"  # 电话
    WECHAT = "wechat"  # 微信
    ONLINE = "online"  # 在线
    IN_PERSON = "in_person"  # 现场


class Dimension(StrEnum):
    """满意度维度."""

    PRODUCT = "product"  # 产品
    SERVICE = "service"  # 服务
    AFTER_SALES = "after_sales"  # 售后


class SurveyStatus(StrEnum):
    REQUESTED = "requested"  # 待回复
    ANSWERED = "answered"  # 已回复
    EXPIRED = "expired"  # 已过期


class ActionStatus(StrEnum):
    """改进措施状态."""

    OPEN = "open"  # 待处理
    IN_PROGRESS = "in_progress"  # 进行中
    DONE = "done"  # 已完成


KIND_LABELS: Final = {
    SurveyKind.PERIODIC: "定期调查",
    SurveyKind.COMPLAINT: "投诉回访",
    SurveyKind.SERVICE_REQUEST: "服务回访",
}
CHANNEL_LABELS: Final = {
    SurveyChannel.SMS: "短信",
    SurveyChannel.EMAIL: "邮件",
    SurveyChannel.PHONE: "电话",
    SurveyChannel.WECHAT: "微信",
    SurveyChannel.ONLINE: "在线",
    SurveyChannel.IN_PERSON: "现场",
}
DIMENSION_LABELS: Final = {
    Dimension.PRODUCT: "产品",
    Dimension.SERVICE: "服务",
    Dimension.AFTER_SALES: "售后",
}
STATUS_LABELS: Final = {
    SurveyStatus.REQUESTED: "待回复",
    SurveyStatus.ANSWERED: "已回复",
    SurveyStatus.EXPIRED: "已过期",
}
ACTION_STATUS_LABELS: Final = {
    ActionStatus.OPEN: "待处理",
    ActionStatus.IN_PROGRESS: "进行中",
    ActionStatus.DONE: "已完成",
}

#: The kinds requested for one resolved case (and so with a deterministic id).
CASE_KINDS: Final = frozenset({SurveyKind.COMPLAINT, SurveyKind.SERVICE_REQUEST})


# -- errors ---------------------------------------------------------------------------


class SurveyError(DomainError):
    code = "survey.error"


class InvalidSurveyField(SurveyError):
    code = "survey.invalid_field"
    kind = "invalid"


class TimeOrderRefused(SurveyError):
    code = "survey.time_before_previous"
    kind = "invalid"


class UnknownAction(SurveyError):
    code = "survey.unknown_action"
    kind = "invalid"


class AlreadyAnswered(SurveyError):
    code = "survey.already_answered"


class SurveyExpired(SurveyError):
    code = "survey.expired"


class NotYetDue(SurveyError):
    """Expiring a survey whose answer period has not ended."""

    code = "survey.not_yet_due"


class NotAnswered(SurveyError):
    code = "survey.not_answered"


class DuplicateAction(SurveyError):
    code = "survey.duplicate_action"


class TooManyActions(SurveyError):
    code = "survey.too_many_actions"


class ActionClosed(SurveyError):
    code = "survey.action_closed"


class ActionTransitionRefused(SurveyError):
    code = "survey.action_transition_refused"


# -- input helpers --------------------------------------------------------------------


_check = Guards(InvalidSurveyField)
choose = _check.choose
text = _check.text
optional_text = _check.optional_text
key = _check.key
score = _check.whole
calendar_day = _check.calendar_day
instant = _check.instant


def survey_id_for(kind: str, source_id: UUID) -> UUID:
    """The one survey of a resolved complaint or service request."""
    chosen = choose(SurveyKind, kind, "kind")
    if chosen not in CASE_KINDS:
        raise InvalidSurveyField(
            "only a complaint or service-request survey has an id derived from its case",
            field="kind",
        )
    if not isinstance(source_id, UUID):
        raise InvalidSurveyField("source_id must be the case's id", field="source_id")
    return uuid5(SURVEY_NAMESPACE, f"{chosen.value}:{source_id}")


def dimension_scores(scores: object) -> dict[str, int]:
    """Scores per dimension (产品 / 服务 / 售后), each 1–5, at least one; in the order of
    :class:`Dimension`."""
    if not isinstance(scores, Mapping) or not scores:
        raise InvalidSurveyField(
            "scores must give at least one dimension (product, service, after_sales)",
            field="scores",
        )
    given: dict[str, int] = {}
    for name, value in scores.items():
        dimension = choose(Dimension, name, "scores")
        given[dimension.value] = score(f"scores.{dimension.value}", value, *DIMENSION_RANGE)
    return {d.value: given[d.value] for d in Dimension if d.value in given}


# -- the aggregate --------------------------------------------------------------------


class Survey(KehuAggregate):
    """满意度调查 of one customer: the request, the answer (or the expiry), and the
    improvement actions it led to."""

    #: State attributes that hold personal data (masked for roles that may not see it).
    PERSONAL_STATE: ClassVar[tuple[str, ...]] = ("comment",)

    def data_subject(self, event: object | None = None) -> UUID | None:
        return self.customer_id  # personal data about the customer who raised it

    class Requested(Aggregate.Created):
        """发起调查: ``handler_id`` and ``segment`` as they stood when it was requested."""

        customer_id: UUID
        kind: str
        source_id: UUID | None
        channel: str
        handler_id: str | None
        segment: str | None
        requested_at: datetime
        respond_by: date

    class Answered(Aggregate.Event):
        """客户回复: the scores, with what the rating is attributed to copied from the
        request (handler, segment, channel, kind, customer) so the answer reads alone."""

        answered_at: datetime
        csat: int
        nps: int | None
        ces: int | None
        scores: dict[str, int]
        comment: PersonalData[str | None]
        handler_id: str | None
        segment: str | None
        channel: str
        kind: str
        customer_id: UUID

    class Expired(Aggregate.Event):
        """逾期未回复: unanswered after ``respond_by``; recorded once by the scheduler."""

        expired_on: date

    class ActionAdded(Aggregate.Event):
        """改进措施, with its owner and due date."""

        action_id: str
        description: str
        owner: str
        due_on: date
        at: datetime

    class ActionUpdated(Aggregate.Event):
        action_id: str
        status: str
        note: str | None
        at: datetime

    @event(Requested)
    def __init__(
        self,
        id: UUID,
        customer_id: UUID,
        kind: str,
        source_id: UUID | None,
        channel: str,
        handler_id: str | None,
        segment: str | None,
        requested_at: datetime,
        respond_by: date,
    ) -> None:
        self.customer_id = customer_id
        self.kind = kind
        self.source_id = source_id
        self.channel = channel
        self.handler_id = handler_id
        self.segment = segment
        self.requested_at = requested_at
        self.respond_by = respond_by
        self.status = SurveyStatus.REQUESTED
        self.answered_at: datetime | None = None
        self.csat: int | None = None
        self.nps: int | None = None
        self.ces: int | None = None
        self.scores: dict[str, int] = {}
        self.comment: str | None = None
        self.expired_on: date | None = None
        self.actions: dict[str, dict[str, Any]] = {}

    @classmethod
    def request(
        cls,
        *,
        customer_id: UUID,
        kind: str,
        channel: str,
        requested_at: datetime,
        respond_by: date,
        source_id: UUID | None = None,
        new_id: UUID | None = None,
        handler_id: str | None = None,
        segment: str | None = None,
    ) -> Survey:
        """发起满意度调查. A complaint or service-request survey names its case
        (``source_id``) and gets the case's deterministic id; a periodic survey names no
        case and takes ``new_id`` from the application."""
        chosen = choose(SurveyKind, kind, "kind")
        if not isinstance(customer_id, UUID):
            raise InvalidSurveyField("customer_id must be the customer's id", field="customer_id")
        if chosen in CASE_KINDS:
            if source_id is None:
                raise InvalidSurveyField(
                    f"a {chosen.value} survey ({KIND_LABELS[chosen]}) names its case (source_id)",
                    field="source_id",
                )
            survey_id = survey_id_for(chosen.value, source_id)
            if new_id is not None and new_id != survey_id:
                raise InvalidSurveyField(
                    "the id of a case's survey is derived from the case, not given",
                    field="new_id",
                )
        else:
            if source_id is not None:
                raise InvalidSurveyField(
                    "a periodic survey (定期调查) names no case", field="source_id"
                )
            if not isinstance(new_id, UUID):
                raise InvalidSurveyField("a periodic survey needs an id", field="new_id")
            survey_id = new_id
        moment = instant("requested_at", requested_at)
        deadline = calendar_day("respond_by", respond_by)
        first, last = business_day(moment), business_day(moment) + timedelta(MAX_RESPONSE_DAYS)
        if not first <= deadline <= last:
            raise InvalidSurveyField(
                f"respond_by must be from the request day {first} to {last}"
                f" ({MAX_RESPONSE_DAYS} days later), not {deadline}",
                field="respond_by",
            )
        return cls(
            id=survey_id,
            customer_id=customer_id,
            kind=chosen.value,
            source_id=source_id,
            channel=choose(SurveyChannel, channel, "channel").value,
            handler_id=optional_text("handler_id", handler_id, max_length=64),
            segment=optional_text("segment", segment, max_length=60),
            requested_at=moment,
            respond_by=deadline,
        )

    # -- guards ---------------------------------------------------------------------

    def _check_time(self, field: str, at: object, *, not_before: datetime, what: str) -> datetime:
        moment = instant(field, at)
        if moment < not_before:
            raise TimeOrderRefused(
                f"{field} ({moment.isoformat()}) is before {what} ({not_before.isoformat()})",
                field=field,
            )
        return moment

    def _check_answerable(self, action: str) -> None:
        if self.status == SurveyStatus.ANSWERED:
            assert self.answered_at is not None
            raise AlreadyAnswered(
                f"cannot {action}: the survey was answered at {self.answered_at.isoformat()}"
            )
        if self.status == SurveyStatus.EXPIRED:
            raise SurveyExpired(
                f"cannot {action}: the survey expired on {self.expired_on}"
                f" (answers were due by {self.respond_by})",
                respond_by=self.respond_by.isoformat(),
            )

    # -- answering ------------------------------------------------------------------

    def answer(
        self,
        *,
        csat: int,
        scores: Mapping[str, int],
        answered_at: datetime,
        nps: int | None = None,
        ces: int | None = None,
        comment: str | None = None,
    ) -> None:
        """客户回复: CSAT 1–5, optional NPS 0–10 and CES 1–7, scores per dimension 1–5 and
        a comment (personal data). Refused once answered, or after ``respond_by``."""
        self._check_answerable("answer")
        moment = self._check_time(
            "answered_at", answered_at, not_before=self.requested_at, what="the request"
        )
        if business_day(moment) > self.respond_by:
            raise SurveyExpired(
                f"answers were due by {self.respond_by}; {business_day(moment)} is too late",
                respond_by=self.respond_by.isoformat(),
            )
        self._answered(
            answered_at=moment,
            csat=score("csat", csat, *CSAT_RANGE),
            nps=None if nps is None else score("nps", nps, *NPS_RANGE),
            ces=None if ces is None else score("ces", ces, *CES_RANGE),
            scores=dimension_scores(scores),
            comment=optional_text("comment", comment, max_length=2000),
            handler_id=self.handler_id,
            segment=self.segment,
            channel=self.channel,
            kind=self.kind,
            customer_id=self.customer_id,
        )

    @event(Answered)
    def _answered(
        self,
        answered_at: datetime,
        csat: int,
        nps: int | None,
        ces: int | None,
        scores: dict[str, int],
        comment: str | None,
        handler_id: str | None,
        segment: str | None,
        channel: str,
        kind: str,
        customer_id: UUID,
    ) -> None:
        self.status = SurveyStatus.ANSWERED
        self.answered_at = answered_at
        self.csat = csat
        self.nps = nps
        self.ces = ces
        self.scores = dict(scores)
        self.comment = comment

    def expire(self, on: date) -> None:
        """逾期: recorded once, on a day after ``respond_by``, while still unanswered."""
        day = calendar_day("on", on)
        self._check_answerable("expire")
        if day <= self.respond_by:
            raise NotYetDue(
                f"answers are due by {self.respond_by}; on {day} the survey has not expired",
                respond_by=self.respond_by.isoformat(),
            )
        self._expired(expired_on=day)

    @event(Expired)
    def _expired(self, expired_on: date) -> None:
        self.status = SurveyStatus.EXPIRED
        self.expired_on = expired_on

    # -- improvement actions ----------------------------------------------------------

    def add_action(
        self, *, action_id: str, description: str, owner: str, due_on: date, at: datetime
    ) -> None:
        """改进措施: what will be improved, by whom and by when. Only after an answer."""
        if self.status != SurveyStatus.ANSWERED:
            raise NotAnswered(
                f"improvement actions follow an answer; the survey is {self.status}"
                f" ({STATUS_LABELS[SurveyStatus(self.status)]})"
            )
        identifier = key("action_id", action_id)
        if identifier in self.actions:
            raise DuplicateAction(
                f"the survey already has an action {identifier!r}", action_id=identifier
            )
        if len(self.actions) >= MAX_ACTIONS:
            raise TooManyActions(f"a survey has at most {MAX_ACTIONS} improvement actions")
        assert self.answered_at is not None
        moment = self._check_time("at", at, not_before=self.answered_at, what="the answer")
        day = calendar_day("due_on", due_on)
        if day < business_day(moment):
            raise InvalidSurveyField(
                f"due_on ({day}) is before the day the action is added ({business_day(moment)})",
                field="due_on",
            )
        self._action_added(
            action_id=identifier,
            description=text("description", description, max_length=1000),
            owner=text("owner", owner, max_length=64),
            due_on=day,
            at=moment,
        )

    @event(ActionAdded)
    def _action_added(
        self, action_id: str, description: str, owner: str, due_on: date, at: datetime
    ) -> None:
        self.actions[action_id] = {
            "description": description,
            "owner": owner,
            "due_on": due_on,
            "status": ActionStatus.OPEN.value,
            "note": None,
            "added_at": at,
            "updated_at": at,
            "done_at": None,
        }

    def update_action(
        self, *, action_id: str, status: str, at: datetime, note: str | None = None
    ) -> None:
        """Move an action on (open → in progress → done; done is final). Staying at the
        same status records a progress note, so it needs one."""
        identifier = key("action_id", action_id)
        action = self.actions.get(identifier)
        if action is None:
            raise UnknownAction(f"the survey has no action {identifier!r}", action_id=identifier)
        current = ActionStatus(action["status"])
        target = choose(ActionStatus, status, "status")
        if current == ActionStatus.DONE:
            raise ActionClosed(f"action {identifier!r} is done (已完成); it cannot change")
        if current == ActionStatus.IN_PROGRESS and target == ActionStatus.OPEN:
            raise ActionTransitionRefused(
                f"action {identifier!r} is in progress (进行中); it cannot go back to open"
            )
        clean_note = optional_text("note", note, max_length=1000)
        if target == current and clean_note is None:
            raise InvalidSurveyField(
                f"action {identifier!r} is already {current}; give a note to record progress",
                field="note",
            )
        self._action_updated(
            action_id=identifier,
            status=target.value,
            note=clean_note,
            at=self._check_time(
                "at", at, not_before=action["updated_at"], what="the action's previous step"
            ),
        )

    @event(ActionUpdated)
    def _action_updated(self, action_id: str, status: str, note: str | None, at: datetime) -> None:
        action = self.actions[action_id]
        action["status"] = status
        action["updated_at"] = at
        if note is not None:
            action["note"] = note
        if status == ActionStatus.DONE:
            action["done_at"] = at

    # -- queries --------------------------------------------------------------------

    def due_to_expire(self, today: date) -> bool:
        """Unanswered and past ``respond_by`` on ``today`` (what the scheduler records)."""
        return self.status == SurveyStatus.REQUESTED and calendar_day("today", today) > (
            self.respond_by
        )
