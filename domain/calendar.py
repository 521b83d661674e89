"""The mainland-China business calendar (工作日历) in Asia/Shanghai.

Which days are working days is **data**, one versioned record per calendar year
(:class:`CalendarVersion`): the State Council's arrangement (放假安排) of statutory holidays
(法定节假日 — every day off of a holiday period, bridging days 调休放假 and the weekend days
inside it included) and of adjusted working days (调休上班, weekend days that are worked), with
the notice(s) it was published in (``source``, ``published_on``) and a ``version`` such as
``cn-2026.1`` that goes up when a later notice adjusts the year. The records are the JSON files
of :mod:`domain.calendar_data`, read once at import with :mod:`importlib.resources`; a new
year's notice is a new data file, never a code change. A year no record covers is refused
(``calendar.year_not_covered``) rather than silently treated as an ordinary year.

Every other day follows the week: Monday–Friday work, Saturday and Sunday do not.

Business hours (营业时间) are windows of each working day, by default 09:00–12:00 and
13:00–18:00 (the lunch break does not count). Every computation accepts aware datetimes in any
zone, computes in Asia/Shanghai and answers in Asia/Shanghai; a naive datetime is refused
(``validation.naive_datetime``).

Deadlines counted in working days (工作日) follow the Civil Code's rules on periods (期间计算,
民法典 第二百零一条、第二百零三条): the day the period starts from does not count, and the
period ends when business stops on its last day. So "within 7 working days of an application
made on ``day``" ends at the close of business on :meth:`BusinessCalendar.add_working_days`
``(day, 7)`` — that moment is :meth:`BusinessCalendar.working_days_deadline`.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from domain.base import DomainError, InvalidValueError

SHANGHAI = ZoneInfo("Asia/Shanghai")
"""Business time of mainland China (UTC+08:00, no daylight saving)."""

DEFAULT_WINDOWS: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13), time(18)))
"""09:00–12:00 and 13:00–18:00: eight business hours a working day."""

DATA_PACKAGE = "domain.calendar_data"
_DATA_FORMAT = 1
_MICROS_PER_HOUR = 3_600_000_000
_MICRO = timedelta(microseconds=1)
_LAST_YEAR = date.max.year


# ---------------------------------------------------------------------------- errors


class YearNotCovered(DomainError):
    """No holiday arrangement is on record for the year asked about."""

    code = "calendar.year_not_covered"
    kind = "invalid"


class NaiveDatetime(InvalidValueError):
    """A time without its offset: business time must be unambiguous."""

    code = "validation.naive_datetime"


class InvalidBusinessHours(InvalidValueError):
    """Business-hour windows that are empty, reversed, overlapping or out of order."""

    code = "calendar.invalid_business_hours"


class NegativeDuration(InvalidValueError):
    """A count of working days or business hours below zero."""

    code = "calendar.negative_duration"


class CalendarDataError(DomainError):
    """A calendar data record (a year's arrangement) is malformed or inconsistent."""

    code = "calendar.invalid_data"
    kind = "invalid"


# ------------------------------------------------------------------------ the data


@dataclass(frozen=True)
class HolidayName:
    """A holiday's name, e.g. 国庆节 / National Day."""

    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} {self.en}"


@dataclass(frozen=True)
class Notice:
    """A published notice (通知) that arranged a year's holidays, e.g. 国办发明电〔2025〕7号."""

    number: str
    title: str
    published_on: date


@dataclass(frozen=True)
class CalendarVersion:
    """One calendar year's holiday arrangement (放假安排), as versioned data.

    ``holidays`` are the days off of the year's holiday periods (法定节假日 with their bridging
    days and the weekend days inside the periods); ``adjusted_workdays`` are the weekend days
    worked instead (调休上班). ``names`` names the holiday each day belongs to (for an adjusted
    working day: the holiday it makes up for). ``version`` (``cn-<year>.<n>``) and
    ``published_on`` identify which publication the data follows; it is in effect for the
    whole of ``year``."""

    year: int
    holidays: frozenset[date]
    adjusted_workdays: frozenset[date]
    source: str
    version: str = "unversioned"
    published_on: date | None = None
    names: Mapping[date, HolidayName] = field(default_factory=dict)
    notices: tuple[Notice, ...] = ()

    def __post_init__(self) -> None:
        outside = sorted(d for d in self.holidays | self.adjusted_workdays if d.year != self.year)
        if outside:
            raise CalendarDataError(
                f"the {self.year} arrangement lists days of another year: {outside[0]}",
                year=self.year,
            )
        both = sorted(self.holidays & self.adjusted_workdays)
        if both:
            raise CalendarDataError(
                f"{both[0]} is listed both as a day off and as an adjusted working day",
                year=self.year,
            )
        weekdays = sorted(d for d in self.adjusted_workdays if d.weekday() < 5)
        if weekdays:
            raise CalendarDataError(
                f"{weekdays[0]} is a weekday, not a weekend day that could be worked (调休上班)",
                year=self.year,
            )
        unknown = sorted(set(self.names) - self.holidays - self.adjusted_workdays)
        if unknown:
            raise CalendarDataError(
                f"{unknown[0]} is named but neither a day off nor an adjusted working day",
                year=self.year,
            )

    def is_working_day(self, day: date) -> bool:
        if day in self.adjusted_workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5


YearNotice = CalendarVersion
"""The earlier name of :class:`CalendarVersion`."""


def _date(value: object, what: str) -> date:
    if not isinstance(value, str):
        raise CalendarDataError(f"{what} must be an ISO date text, not {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CalendarDataError(f"{what} is not an ISO date: {value!r}") from None


def calendar_version_from_dict(data: Mapping[str, Any]) -> CalendarVersion:
    """A year's arrangement from its JSON record.

    The format of ``calendar_data/<year>.json`` (``calendar.invalid_data`` if it is not
    followed, or the days contradict each other)::

        {"format": 1, "year": 2026, "version": "cn-2026.1",
         "source": "State Council General Office notice 国办发明电〔2025〕7号 (…)",
         "published_on": "2025-11-04",
         "notices": [{"number": "…", "title": "…", "published_on": "2025-11-04"}],
         "holidays": [{"date": "2026-01-01", "zh": "元旦", "en": "New Year's Day"}, …],
         "adjusted_workdays": [{"date": "2026-01-04", "zh": "元旦", "en": "New Year's Day"}, …]}

    ``holidays`` lists every day off of the year's holiday periods; ``adjusted_workdays`` the
    weekend days worked, each named after the holiday it makes up for.
    """
    try:
        if data.get("format", _DATA_FORMAT) != _DATA_FORMAT:
            raise CalendarDataError(f"unknown calendar data format {data.get('format')!r}")
        year = int(data["year"])
        names: dict[date, HolidayName] = {}
        days: dict[str, set[date]] = {"holidays": set(), "adjusted_workdays": set()}
        for kind, found in days.items():
            for entry in data[kind]:
                day = _date(entry["date"], f"{year} {kind} date")
                if day in found:
                    raise CalendarDataError(f"{day} is listed twice in {year} {kind}")
                found.add(day)
                names[day] = HolidayName(zh=str(entry["zh"]), en=str(entry["en"]))
        notices = tuple(
            Notice(
                number=str(n["number"]),
                title=str(n["title"]),
                published_on=_date(n["published_on"], "a notice's publication date"),
            )
            for n in data.get("notices", ())
        )
        return CalendarVersion(
            year=year,
            holidays=frozenset(days["holidays"]),
            adjusted_workdays=frozenset(days["adjusted_workdays"]),
            source=str(data["source"]),
            version=str(data["version"]),
            published_on=_date(data["published_on"], f"{year} publication date"),
            names=names,
            notices=notices,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise CalendarDataError(f"calendar data record is malformed: {error!r}") from None


def load_calendar_versions(package: str = DATA_PACKAGE) -> dict[int, CalendarVersion]:
    """Every year's arrangement in a data package: ``index.json`` and the files it lists."""
    folder = resources.files(package)
    found: dict[int, CalendarVersion] = {}
    try:
        index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
        for entry in index["years"]:
            record = json.loads((folder / str(entry["file"])).read_text(encoding="utf-8"))
            version = calendar_version_from_dict(record)
            if version.year != int(entry["year"]) or version.version != entry["version"]:
                raise CalendarDataError(
                    f"{entry['file']} holds {version.year} {version.version}, but the index"
                    f" lists {entry['year']} {entry['version']}"
                )
            found[version.year] = version
    except (OSError, KeyError, TypeError, ValueError) as error:
        raise CalendarDataError(
            f"the calendar data in {package} is unreadable: {error!r}"
        ) from None
    return found


_PACKAGED: dict[int, CalendarVersion] = load_calendar_versions()


@dataclass(frozen=True)
class HolidayCalendar:
    """Working days of mainland China, year by year, from the arrangements on record.

    ``notices`` maps each covered year to its :class:`CalendarVersion`."""

    notices: Mapping[int, CalendarVersion]
    version: str
    #: Strict calendars refuse a year without an arrangement. Lenient ones (the SLA clocks in
    #: read models) count Monday–Friday there, so a deadline that reaches into next year
    #: before its notice is published does not stop the views; once the notice is added,
    #: clocks recompute on read and a rebuild refreshes the stored deadlines.
    lenient: bool = False
    _working: dict[int, tuple[int, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    @property
    def years(self) -> list[int]:
        return sorted(self.notices)

    def covers(self, year: int) -> bool:
        return year in self.notices

    def version_for(self, day: date) -> CalendarVersion:
        """The arrangement in force for ``day``'s year (``calendar.year_not_covered`` if none)."""
        found = self.notices.get(day.year)
        if found is None:
            raise self._not_covered(day.year)
        return found

    notice = version_for

    def _not_covered(self, year: int) -> YearNotCovered:
        years = self.years
        covered = f"{years[0]}–{years[-1]}" if years else "none"
        return YearNotCovered(
            f"no holiday arrangement covers {year} (covered: {covered});"
            " add the year's notice to the calendar data",
            year=year,
        )

    def is_working_day(self, day: date) -> bool:
        found = self.notices.get(day.year)
        if found is not None:
            return found.is_working_day(day)
        if self.lenient:
            return day.weekday() < 5
        raise self._not_covered(day.year)

    def holiday_name(self, day: date) -> HolidayName | None:
        """The holiday a day off belongs to (or an adjusted working day makes up for)."""
        found = self.notices.get(day.year)
        return found.names.get(day) if found else None

    def _working_ordinals(self, year: int) -> tuple[int, ...]:
        """The working days of ``year`` as sorted ordinals (cached)."""
        cached = self._working.get(year)
        if cached is None:
            if not 1 <= year <= _LAST_YEAR:
                raise self._not_covered(year)
            first, last = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
            cached = tuple(
                n for n in range(first, last + 1) if self.is_working_day(date.fromordinal(n))
            )
            self._working[year] = cached
        return cached

    def count_working_days(self, first: date, last: date) -> int:
        """Working days from ``first`` through ``last``, both included (0 if ``last`` < ``first``)."""
        if last < first:
            return 0
        total = 0
        for year in range(first.year, last.year + 1):
            ordinals = self._working_ordinals(year)
            low = bisect_left(ordinals, first.toordinal()) if year == first.year else 0
            high = bisect_right(ordinals, last.toordinal()) if year == last.year else len(ordinals)
            total += high - low
        return total

    def nth_working_day_after(self, day: date, count: int) -> date:
        """The ``count``-th working day after ``day`` (``count`` ≥ 1; ``day`` itself never counts)."""
        year = day.year
        ordinals = self._working_ordinals(year)
        position = bisect_right(ordinals, day.toordinal())
        while True:
            available = len(ordinals) - position
            if count <= available:
                return date.fromordinal(ordinals[position + count - 1])
            count -= available
            year += 1
            ordinals = self._working_ordinals(year)
            position = 0


def _version_label(notices: Mapping[int, CalendarVersion]) -> str:
    """``cn-2019-2026@2025-11-04``: the years covered and the newest publication."""
    if not notices:
        return "cn-empty"
    years = sorted(notices)
    published = [v.published_on for v in notices.values() if v.published_on is not None]
    newest = f"@{max(published).isoformat()}" if published else ""
    return f"cn-{years[0]}-{years[-1]}{newest}"


@cache
def china_holidays(*, lenient: bool = False) -> HolidayCalendar:
    """The arrangements packaged with kehu (``domain/calendar_data``)."""
    return HolidayCalendar(notices=_PACKAGED, version=_version_label(_PACKAGED), lenient=lenient)


# -------------------------------------------------------------------- business time


def shanghai(moment: datetime, field_name: str = "time") -> datetime:
    """An aware datetime in Asia/Shanghai; a naive one is refused."""
    if not isinstance(moment, datetime):
        raise InvalidValueError(f"{field_name} must be a date and time", field=field_name)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise NaiveDatetime(f"{field_name} needs a timezone offset", field=field_name)
    return moment.astimezone(SHANGHAI)


def business_day(moment: datetime) -> date:
    """The calendar day of a business time in Asia/Shanghai: the day deadlines count from."""
    return moment.astimezone(SHANGHAI).date()


def _micros(delta: timedelta) -> int:
    return delta // _MICRO


def _hours(micros: int) -> Decimal:
    return Decimal(micros) / _MICROS_PER_HOUR


def _hours_to_micros(hours: Decimal | int, what: str) -> int:
    try:
        value = Decimal(hours)
    except (TypeError, ValueError, InvalidOperation):
        raise InvalidValueError(f"{what} must be a number of hours, not {hours!r}") from None
    if not value.is_finite():
        raise InvalidValueError(f"{what} must be a finite number of hours, not {hours!r}")
    if value < 0:
        raise NegativeDuration(f"{what} must not be negative, not {hours}")
    return int((value * _MICROS_PER_HOUR).to_integral_value(rounding=ROUND_HALF_EVEN))


def business_windows(windows: Iterable[Sequence[time]]) -> tuple[tuple[time, time], ...]:
    """Business-hour windows checked: (start, end) wall-clock times, each ending after it
    starts, in order and not overlapping (``calendar.invalid_business_hours`` otherwise)."""
    found: list[tuple[time, time]] = []
    for window in windows:
        if len(window) != 2 or not all(isinstance(t, time) for t in window):
            raise InvalidBusinessHours(f"a business-hour window is (start, end), not {window!r}")
        start, end = window[0], window[1]
        if start.tzinfo is not None or end.tzinfo is not None:
            raise InvalidBusinessHours("business-hour windows are wall-clock times in Shanghai")
        if not start < end:
            raise InvalidBusinessHours(
                f"a business-hour window must end after it starts: {start}–{end}"
            )
        if found and start < found[-1][1]:
            raise InvalidBusinessHours(
                "business-hour windows must be in order and must not overlap"
                f" ({found[-1][0]}–{found[-1][1]}, then {start}–{end})"
            )
        found.append((start, end))
    if not found:
        raise InvalidBusinessHours("a business day needs at least one window of business hours")
    return tuple(found)


@dataclass(frozen=True)
class BusinessCalendar:
    """Working days and business hours: the ground every service-level clock runs on.

    ``windows`` are the business hours of each working day, as (start, end) wall-clock times
    in Shanghai, in order and not overlapping; a list is accepted."""

    days: HolidayCalendar
    windows: Sequence[tuple[time, time]] = DEFAULT_WINDOWS

    def __post_init__(self) -> None:
        object.__setattr__(self, "windows", business_windows(self.windows))

    def with_windows(self, windows: Iterable[Sequence[time]]) -> BusinessCalendar:
        """The same working days with other business hours."""
        checked = business_windows(windows)
        return self if checked == self.windows else replace(self, windows=checked)

    @property
    def version(self) -> str:
        return self.days.version

    @property
    def hours_per_day(self) -> Decimal:
        """Business hours in one working day (8 by default)."""
        return _hours(self._micros_per_day)

    @property
    def _micros_per_day(self) -> int:
        return sum(
            _micros(datetime.combine(date.min, end) - datetime.combine(date.min, start))
            for start, end in self.windows
        )

    # ---- working days

    def is_working_day(self, day: date) -> bool:
        """工作日: Monday–Friday except days off, plus adjusted working days (调休上班)."""
        return self.days.is_working_day(self._day(day))

    def next_working_day(self, day: date) -> date:
        """The first working day after ``day``."""
        return self.days.nth_working_day_after(self._day(day), 1)

    def add_working_days(self, day: date, count: int) -> date:
        """The ``count``-th working day after ``day``; ``day`` itself never counts, whether or
        not it is a working day (``count`` 0 gives ``day`` back).

        The deadline of "within ``count`` working days" of ``day`` is the close of business
        of this day: :meth:`working_days_deadline`."""
        if count < 0:
            raise NegativeDuration(f"a count of working days must not be negative, not {count}")
        start = self._day(day)
        return start if count == 0 else self.days.nth_working_day_after(start, count)

    def working_days_deadline(self, start: date | datetime, count: int) -> datetime:
        """The end of the ``count``-th working day after ``start`` (``count`` ≥ 1): the close
        of its last business-hour window, in Shanghai.

        An aware datetime counts from its date in Shanghai, whatever its time of day: an
        application received Sunday 2025-09-28 (a worked Sunday) at 10:00 with 7 working
        days to answer is due at 18:00 on Tuesday 2025-10-14."""
        if count < 1:
            raise NegativeDuration(f"a deadline is at least one working day away, not {count}")
        day = shanghai(start, "start").date() if isinstance(start, datetime) else start
        return self.end_of_working_day(self.add_working_days(day, count))

    def working_days_between(self, first: date, last: date) -> int:
        """Working days from ``first`` through ``last``, both included."""
        return self.days.count_working_days(self._day(first), self._day(last))

    def end_of_working_day(self, day: date) -> datetime:
        """Close of business on ``day`` (the end of its last window)."""
        return datetime.combine(self._day(day), self.windows[-1][1], SHANGHAI)

    def opening_windows(self, day: date) -> list[tuple[datetime, datetime]]:
        """The business-hour windows of ``day`` in Shanghai time (none on a day off)."""
        day = self._day(day)
        if not self.days.is_working_day(day):
            return []
        return [
            (datetime.combine(day, start, SHANGHAI), datetime.combine(day, end, SHANGHAI))
            for start, end in self.windows
        ]

    @staticmethod
    def _day(day: date) -> date:
        if isinstance(day, datetime):
            return shanghai(day, "day").date()
        return day

    # ---- business hours

    def add_business_hours(self, start: datetime, hours: Decimal | int) -> datetime:
        """The moment ``hours`` business hours after ``start``, counting only time inside
        business-hour windows of working days.

        A start outside business hours begins at the next window's opening; a result that
        exactly fills a window is that window's close (12:00, not 13:00). Adding 0 hours
        gives ``start`` back (in Shanghai time)."""
        cursor = shanghai(start, "start")
        remaining = _hours_to_micros(hours, "business hours to add")
        if remaining == 0:
            return cursor
        day = cursor.date()
        for opens, closes in self.opening_windows(day):
            if closes <= cursor:
                continue
            begin = max(opens, cursor)
            available = _micros(closes - begin)
            if remaining <= available:
                return begin + remaining * _MICRO
            remaining -= available
        # Whole working days first, then the windows of the day where the time runs out.
        per_day = self._micros_per_day
        whole_days = (remaining - 1) // per_day
        remaining -= whole_days * per_day
        landing = self.days.nth_working_day_after(day, whole_days + 1)
        for opens, closes in self.opening_windows(landing):
            available = _micros(closes - opens)
            if remaining <= available:
                return opens + remaining * _MICRO
            remaining -= available
        raise AssertionError(
            "unreachable: a working day holds a whole day's hours"
        )  # pragma: no cover

    def business_hours_between(self, start: datetime, end: datetime) -> Decimal:
        """Business hours inside working windows from ``start`` to ``end`` (0 if ``end`` is
        not after ``start``)."""
        begin = shanghai(start, "start")
        finish = shanghai(end, "end")
        if finish <= begin:
            return Decimal(0)
        first, last = begin.date(), finish.date()
        if first == last:
            return _hours(self._inside(first, begin, finish))
        micros = self._inside(first, begin, None) + self._inside(last, None, finish)
        if (last - first).days > 1:
            between = self.days.count_working_days(
                first + timedelta(days=1), last - timedelta(days=1)
            )
            micros += between * self._micros_per_day
        return _hours(micros)

    def _inside(self, day: date, begin: datetime | None, finish: datetime | None) -> int:
        """Microseconds of ``day``'s windows between ``begin`` and ``finish`` (open ends:
        the whole day)."""
        total = 0
        for opens, closes in self.opening_windows(day):
            low = opens if begin is None else max(opens, begin)
            high = closes if finish is None else min(closes, finish)
            if high > low:
                total += _micros(high - low)
        return total

    def hours_in(self, intervals: Iterable[tuple[datetime, datetime]]) -> Decimal:
        """Business hours summed over intervals (overlaps count twice; merge them first)."""
        return sum((self.business_hours_between(a, b) for a, b in intervals), start=Decimal(0))


@cache
def default_calendar(*, lenient: bool = False) -> BusinessCalendar:
    """Mainland China, 09:00–12:00 and 13:00–18:00."""
    return BusinessCalendar(days=china_holidays(lenient=lenient))
