"""Training 培训 — a staff training programme: its content, mode (面授 face-to-face or 线上
online), sessions, enrolment up to the capacity, attendance, assessments before and after,
feedback, and its effectiveness (培训效果) computed when it is completed.

Status::

    scheduled 已排期 ─complete (after the last session)─▶ completed 已完成
        └─cancel─▶ cancelled 已取消

Rules this module holds, with the figures it uses:

- **Sessions** are numbered 1, 2, … in time order, each ending after it starts and within
  :data:`MAX_SESSION_HOURS` hours, none overlapping the next; a face-to-face session needs a
  location. Attendance is recorded for a session once it has started; a later record of the
  same staff member and session corrects the earlier one.
- **Enrolment** (报名) is once per staff member, up to the capacity (``training.full``);
  attendance, assessments and feedback are for enrolled staff only.
- **Assessments** (考核) score 0–100, one ``pre`` (培训前) and one ``post`` (培训后) per
  staff member; a post-assessment and feedback cannot precede the first session.
- **Effectiveness** (培训效果) on completion, only after the last session ended and with at
  least one enrolled staff member:

  - attendance_rate = sessions attended ÷ (enrolled × sessions) (unrecorded = absent),
  - pass_rate = enrolled staff whose post score ≥ pass_score ÷ enrolled,
  - average_score = mean post score (``None`` without post scores),
  - improvement = mean (post − pre) over the staff with both (``None`` if nobody has both),
  - satisfaction = mean feedback rating 1–5 (``None`` without feedback).

  Rates are fractions rounded ROUND_HALF_UP to 4 places; means to 2 places.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal
from enum import StrEnum
from typing import Any, ClassVar, Final
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.base import DomainError, KehuAggregate, PersonalData, staff_subject
from domain.guards import Guards

MAX_SESSIONS: Final = 50
MAX_SESSION_HOURS: Final = 24
MAX_CAPACITY: Final = 1000
#: Rates: fractions with this many places.
RATE_PLACES: Final = Decimal("0.0001")
#: Means of scores and ratings: this many places.
MEAN_PLACES: Final = Decimal("0.01")
ROUNDING: Final = ROUND_HALF_UP

_DIVISION: Final = Context(prec=60)


# -- vocabularies ---------------------------------------------------------------------


class TrainingMode(StrEnum):
    FACE_TO_FACE = "face_to_face"  # 面授
    ONLINE = "online"  # 线上


class TrainingStatus(StrEnum):
    SCHEDULED = "scheduled"  # 已排期
    COMPLETED = "completed"  # 已完成
    CANCELLED = "cancelled"  # 已取消


class AssessmentKind(StrEnum):
    PRE = "pre"  # 培训前考核
    POST = "post"  # 培训后考核


MODE_LABELS: Final = {TrainingMode.FACE_TO_FACE: "面授", TrainingMode.ONLINE: "线上"}
STATUS_LABELS: Final = {
    TrainingStatus.SCHEDULED: "已排期",
    TrainingStatus.COMPLETED: "已完成",
    TrainingStatus.CANCELLED: "已取消",
}
ASSESSMENT_LABELS: Final = {AssessmentKind.PRE: "培训前考核", AssessmentKind.POST: "培训后考核"}


# -- errors ---------------------------------------------------------------------------


class TrainingError(DomainError):
    code = "training.error"


class InvalidTrainingField(TrainingError):
    code = "training.invalid_field"
    kind = "invalid"


class TimeOrderRefused(TrainingError):
    code = "training.time_before_previous"
    kind = "invalid"


class UnknownSession(TrainingError):
    code = "training.unknown_session"
    kind = "invalid"


class NothingChanged(TrainingError):
    code = "training.nothing_changed"
    kind = "invalid"


class TrainingTransitionRefused(TrainingError):
    code = "training.transition_refused"


class TrainingFull(TrainingError):
    code = "training.full"


class AlreadyEnrolled(TrainingError):
    code = "training.already_enrolled"


class NotEnrolled(TrainingError):
    code = "training.not_enrolled"


class SessionNotStarted(TrainingError):
    code = "training.session_not_started"


class AlreadyAssessed(TrainingError):
    code = "training.already_assessed"


class FeedbackAlreadyRecorded(TrainingError):
    code = "training.feedback_already_recorded"


class NotFinished(TrainingError):
    code = "training.not_finished"


class NoParticipants(TrainingError):
    code = "training.no_participants"


# -- input helpers --------------------------------------------------------------------


_check = Guards(InvalidTrainingField)
choose = _check.choose
text = _check.text
optional_text = _check.optional_text
key = _check.key
whole = _check.whole
instant = _check.instant


def fraction(numerator: int, denominator: int) -> Decimal:
    """``numerator ÷ denominator`` rounded half up to 4 places."""
    return _DIVISION.divide(Decimal(numerator), Decimal(denominator)).quantize(
        RATE_PLACES, rounding=ROUNDING
    )


def mean(values: Sequence[int]) -> Decimal | None:
    """The mean rounded half up to 2 places, or ``None`` for no values."""
    if not values:
        return None
    return _DIVISION.divide(Decimal(sum(values)), Decimal(len(values))).quantize(
        MEAN_PLACES, rounding=ROUNDING
    )


def sessions_of(mode: TrainingMode, sessions: object) -> list[dict[str, Any]]:
    """The schedule: sessions numbered 1… in time order, none overlapping the next."""
    if isinstance(sessions, str | Mapping) or not isinstance(sessions, Sequence):
        raise InvalidTrainingField("sessions must be a list of sessions", field="sessions")
    if not 1 <= len(sessions) <= MAX_SESSIONS:
        raise InvalidTrainingField(
            f"a training has 1 to {MAX_SESSIONS} sessions, not {len(sessions)}", field="sessions"
        )
    out: list[dict[str, Any]] = []
    for position, item in enumerate(sessions, start=1):
        field = f"sessions[{position}]"
        if not isinstance(item, Mapping):
            raise InvalidTrainingField(f"{field} must be an object", field=field)
        number = item.get("number")
        if number is None:  # unnumbered sessions are numbered in order
            number = position
        if number != position or isinstance(number, bool):
            raise InvalidTrainingField(
                f"{field}: sessions are numbered 1, 2, … in order; expected {position},"
                f" not {number!r}",
                field=f"{field}.number",
            )
        starts = instant(f"{field}.starts_at", item.get("starts_at"))
        ends = instant(f"{field}.ends_at", item.get("ends_at"))
        if ends <= starts:
            raise InvalidTrainingField(
                f"{field} ends ({ends.isoformat()}) before it starts ({starts.isoformat()})",
                field=f"{field}.ends_at",
            )
        if ends - starts > timedelta(hours=MAX_SESSION_HOURS):
            raise InvalidTrainingField(
                f"{field} lasts more than {MAX_SESSION_HOURS} hours", field=f"{field}.ends_at"
            )
        if out and starts < out[-1]["ends_at"]:
            raise InvalidTrainingField(
                f"{field} starts before session {position - 1} ends", field=f"{field}.starts_at"
            )
        location = optional_text(f"{field}.location", item.get("location"), max_length=200)
        if mode == TrainingMode.FACE_TO_FACE and location is None:
            raise InvalidTrainingField(
                f"{field}: a face-to-face (面授) session needs a location",
                field=f"{field}.location",
            )
        out.append({"number": position, "starts_at": starts, "ends_at": ends, "location": location})
    return out


# -- the aggregate --------------------------------------------------------------------


class Training(KehuAggregate):
    """培训: one programme's run with its sessions, participants and effectiveness."""

    #: State attributes that hold personal data (masked for roles that may not see it).
    PERSONAL_STATE: ClassVar[tuple[str, ...]] = ("staff_names", "feedback_comments")

    def data_subject(self, event: object | None = None) -> UUID | None:
        """A participant's own key for what an event says about them (their name, their
        feedback); the training's key for the state, which lists everyone."""
        staff_id = getattr(event, "staff_id", None)
        return staff_subject(staff_id) if isinstance(staff_id, str) else self.id

    class Scheduled(Aggregate.Created):
        """培训排期."""

        programme: str
        topic: str
        mode: str
        trainer: str
        sessions: list[dict[str, Any]]
        capacity: int
        pass_score: int
        at: datetime

    class Enrolled(Aggregate.Event):
        """报名."""

        staff_id: str
        staff_name: PersonalData[str]
        role: str | None
        at: datetime

    class AttendanceRecorded(Aggregate.Event):
        """考勤: present or absent at one session (a later record corrects an earlier one)."""

        staff_id: str
        session: int
        present: bool
        at: datetime

    class AssessmentRecorded(Aggregate.Event):
        """考核成绩 0–100, before (pre) or after (post) the training."""

        staff_id: str
        score: int
        kind: str
        at: datetime

    class FeedbackRecorded(Aggregate.Event):
        """培训反馈: a rating 1–5 and a comment."""

        staff_id: str
        rating: int
        comment: PersonalData[str | None]
        at: datetime

    class Completed(Aggregate.Event):
        """培训完成, with its effectiveness (培训效果) as computed (see the module docstring)."""

        at: datetime
        enrolled: int
        sessions: int
        attendance_rate: Decimal
        passed: int
        pass_rate: Decimal
        average_score: Decimal | None
        improvement: Decimal | None
        satisfaction: Decimal | None

    class Cancelled(Aggregate.Event):
        reason: str
        at: datetime

    @event(Scheduled)
    def __init__(
        self,
        id: UUID,
        programme: str,
        topic: str,
        mode: str,
        trainer: str,
        sessions: list[dict[str, Any]],
        capacity: int,
        pass_score: int,
        at: datetime,
    ) -> None:
        self.programme = programme
        self.topic = topic
        self.mode = mode
        self.trainer = trainer
        # Copies, so that changing the state never changes a recorded event.
        self.sessions = [dict(s) for s in sessions]
        self.capacity = capacity
        self.pass_score = pass_score
        self.scheduled_at = at
        self.status = TrainingStatus.SCHEDULED
        #: staff id → role and enrolment time.
        self.staff: dict[str, dict[str, Any]] = {}
        self.staff_names: dict[str, str] = {}
        #: staff id → session number (text) → present.
        self.attendance: dict[str, dict[str, bool]] = {}
        #: staff id → kind (pre / post) → score.
        self.assessments: dict[str, dict[str, int]] = {}
        self.feedback: dict[str, int] = {}
        self.feedback_comments: dict[str, str | None] = {}
        self.effectiveness: dict[str, Any] | None = None
        self.completed_at: datetime | None = None
        self.cancelled: dict[str, Any] | None = None

    @classmethod
    def schedule(
        cls,
        *,
        new_id: UUID,
        programme: str,
        topic: str,
        mode: str,
        trainer: str,
        sessions: Sequence[Mapping[str, Any]],
        capacity: int,
        pass_score: int,
        at: datetime,
    ) -> Training:
        """培训排期: content, mode, trainer, sessions, capacity and the pass mark."""
        if not isinstance(new_id, UUID):
            raise InvalidTrainingField("a training needs an id", field="new_id")
        chosen = choose(TrainingMode, mode, "mode")
        return cls(
            id=new_id,
            programme=text("programme", programme, max_length=200),
            topic=text("topic", topic, max_length=200),
            mode=chosen.value,
            trainer=text("trainer", trainer, max_length=100),
            sessions=sessions_of(chosen, sessions),
            capacity=whole("capacity", capacity, 1, MAX_CAPACITY),
            pass_score=whole("pass_score", pass_score, 0, 100),
            at=instant("at", at),
        )

    # -- guards ---------------------------------------------------------------------

    def _check_scheduled(self, action: str) -> None:
        if self.status != TrainingStatus.SCHEDULED:
            raise TrainingTransitionRefused(
                f"cannot {action} a training that is {self.status}"
                f" ({STATUS_LABELS[TrainingStatus(self.status)]})",
                current_status=str(self.status),
            )

    def _check_time(
        self, field: str, at: object, *, not_before: datetime | None = None, what: str = ""
    ) -> datetime:
        moment = instant(field, at)
        if moment < self.scheduled_at:
            raise TimeOrderRefused(
                f"{field} ({moment.isoformat()}) is before the training was scheduled"
                f" ({self.scheduled_at.isoformat()})",
                field=field,
            )
        if not_before is not None and moment < not_before:
            raise TimeOrderRefused(
                f"{field} ({moment.isoformat()}) is before {what} ({not_before.isoformat()})",
                field=field,
            )
        return moment

    def _check_enrolled(self, staff_id: str) -> str:
        identifier = key("staff_id", staff_id)
        if identifier not in self.staff:
            raise NotEnrolled(
                f"staff member {identifier} is not enrolled in the training", staff_id=identifier
            )
        return identifier

    def _session(self, number: object) -> dict[str, Any]:
        n = whole("session", number, 1, MAX_SESSIONS)
        if n > len(self.sessions):
            raise UnknownSession(
                f"the training has {len(self.sessions)} sessions; there is no session {n}",
                session=n,
            )
        return self.sessions[n - 1]

    @property
    def first_starts_at(self) -> datetime:
        start: datetime = self.sessions[0]["starts_at"]
        return start

    @property
    def last_ends_at(self) -> datetime:
        end: datetime = self.sessions[-1]["ends_at"]
        return end

    # -- participants -----------------------------------------------------------------

    def enroll(self, staff_id: str, staff_name: str, at: datetime, role: str | None = None) -> None:
        """报名, once per staff member, up to the capacity."""
        self._check_scheduled("enroll in")
        identifier = key("staff_id", staff_id)
        if identifier in self.staff:
            raise AlreadyEnrolled(
                f"staff member {identifier} is already enrolled", staff_id=identifier
            )
        if len(self.staff) >= self.capacity:
            raise TrainingFull(
                f"the training is full: {len(self.staff)} of {self.capacity} places taken",
                capacity=self.capacity,
            )
        self._enrolled(
            staff_id=identifier,
            staff_name=text("staff_name", staff_name, max_length=100),
            role=optional_text("role", role, max_length=40),
            at=self._check_time("at", at),
        )

    @event(Enrolled)
    def _enrolled(self, staff_id: str, staff_name: str, role: str | None, at: datetime) -> None:
        self.staff[staff_id] = {"role": role, "enrolled_at": at}
        self.staff_names[staff_id] = staff_name

    def record_attendance(self, staff_id: str, session: int, present: bool, at: datetime) -> None:
        """考勤 for a session that has started; a different later record corrects it."""
        self._check_scheduled("record attendance in")
        identifier = self._check_enrolled(staff_id)
        item = self._session(session)
        if not isinstance(present, bool):
            raise InvalidTrainingField("present must be true or false", field="present")
        moment = self._check_time("at", at)
        if moment < item["starts_at"]:
            raise SessionNotStarted(
                f"session {item['number']} starts at {item['starts_at'].isoformat()};"
                " attendance is recorded once it has started",
                session=item["number"],
            )
        if self.attendance.get(identifier, {}).get(str(item["number"])) is present:
            raise NothingChanged(
                f"the attendance of {identifier} at session {item['number']} is already"
                f" recorded as {'present' if present else 'absent'}",
                field="present",
            )
        self._attendance_recorded(
            staff_id=identifier, session=item["number"], present=present, at=moment
        )

    @event(AttendanceRecorded)
    def _attendance_recorded(
        self, staff_id: str, session: int, present: bool, at: datetime
    ) -> None:
        self.attendance.setdefault(staff_id, {})[str(session)] = present

    def record_assessment(self, staff_id: str, score: int, kind: str, at: datetime) -> None:
        """考核成绩 0–100, one pre- and one post-assessment per staff member."""
        self._check_scheduled("record an assessment in")
        identifier = self._check_enrolled(staff_id)
        chosen = choose(AssessmentKind, kind, "kind")
        value = whole("score", score, 0, 100)
        if chosen.value in self.assessments.get(identifier, {}):
            raise AlreadyAssessed(
                f"the {chosen.value} assessment ({ASSESSMENT_LABELS[chosen]}) of {identifier}"
                " is already recorded",
                staff_id=identifier,
                kind=chosen.value,
            )
        if chosen == AssessmentKind.POST:
            moment = self._check_time(
                "at", at, not_before=self.first_starts_at, what="the first session"
            )
        else:
            moment = self._check_time("at", at)
        self._assessment_recorded(staff_id=identifier, score=value, kind=chosen.value, at=moment)

    @event(AssessmentRecorded)
    def _assessment_recorded(self, staff_id: str, score: int, kind: str, at: datetime) -> None:
        self.assessments.setdefault(staff_id, {})[kind] = score

    def record_feedback(
        self, staff_id: str, rating: int, at: datetime, comment: str | None = None
    ) -> None:
        """培训反馈: a rating 1–5 (and a comment), once per staff member."""
        self._check_scheduled("record feedback on")
        identifier = self._check_enrolled(staff_id)
        if identifier in self.feedback:
            raise FeedbackAlreadyRecorded(
                f"the feedback of {identifier} is already recorded", staff_id=identifier
            )
        self._feedback_recorded(
            staff_id=identifier,
            rating=whole("rating", rating, 1, 5),
            comment=optional_text("comment", comment, max_length=2000),
            at=self._check_time(
                "at", at, not_before=self.first_starts_at, what="the first session"
            ),
        )

    @event(FeedbackRecorded)
    def _feedback_recorded(
        self, staff_id: str, rating: int, comment: str | None, at: datetime
    ) -> None:
        self.feedback[staff_id] = rating
        self.feedback_comments[staff_id] = comment

    # -- ending -----------------------------------------------------------------------

    def figures(self) -> dict[str, Any]:
        """The effectiveness figures as they stand (see the module docstring)."""
        enrolled = len(self.staff)
        sessions = len(self.sessions)
        attended = sum(
            1 for marks in self.attendance.values() for present in marks.values() if present
        )
        post = [a["post"] for a in self.assessments.values() if "post" in a]
        passed = sum(1 for score in post if score >= self.pass_score)
        gains = [
            a["post"] - a["pre"] for a in self.assessments.values() if "pre" in a and "post" in a
        ]
        return {
            "enrolled": enrolled,
            "sessions": sessions,
            "attendance_rate": fraction(attended, enrolled * sessions)
            if enrolled
            else Decimal("0.0000"),
            "passed": passed,
            "pass_rate": fraction(passed, enrolled) if enrolled else Decimal("0.0000"),
            "average_score": mean(post),
            "improvement": mean(gains),
            "satisfaction": mean(list(self.feedback.values())),
        }

    def complete(self, at: datetime) -> None:
        """培训完成 after the last session, with its effectiveness."""
        self._check_scheduled("complete")
        moment = self._check_time("at", at)
        if moment < self.last_ends_at:
            raise NotFinished(
                f"the last session ends at {self.last_ends_at.isoformat()}; the training"
                " cannot be completed before",
                ends_at=self.last_ends_at.isoformat(),
            )
        if not self.staff:
            raise NoParticipants(
                "nobody is enrolled: a training without participants is cancelled, not completed"
            )
        self._completed(at=moment, **self.figures())

    @event(Completed)
    def _completed(
        self,
        at: datetime,
        enrolled: int,
        sessions: int,
        attendance_rate: Decimal,
        passed: int,
        pass_rate: Decimal,
        average_score: Decimal | None,
        improvement: Decimal | None,
        satisfaction: Decimal | None,
    ) -> None:
        self.status = TrainingStatus.COMPLETED
        self.completed_at = at
        self.effectiveness = {
            "enrolled": enrolled,
            "sessions": sessions,
            "attendance_rate": attendance_rate,
            "passed": passed,
            "pass_rate": pass_rate,
            "average_score": average_score,
            "improvement": improvement,
            "satisfaction": satisfaction,
        }

    def cancel(self, reason: str, at: datetime) -> None:
        """取消培训, while it is scheduled."""
        self._check_scheduled("cancel")
        self._cancelled(
            reason=text("reason", reason, max_length=500), at=self._check_time("at", at)
        )

    @event(Cancelled)
    def _cancelled(self, reason: str, at: datetime) -> None:
        self.status = TrainingStatus.CANCELLED
        self.cancelled = {"reason": reason, "at": at}
