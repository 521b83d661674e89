"""The mainland-China business calendar (工作日历) in Asia/Shanghai.

Which days are working days is **data**, one notice per year: the State Council's
arrangement of statutory holidays (法定节假日, including bridging days) and adjusted
working days (调休上班, weekend days that are worked). The notices come from the maintained
package ``chinese_calendar`` (it carries every notice from 2004 on, each release adding the
next year's), and may be supplemented or corrected by JSON files in ``calendar_data/`` — so a
new year's notice is a data change, never a code change. A year no notice covers is refused
(``calendar.year_not_covered``) rather than silently treated as an ordinary year.

Business hours are windows per working day (default 09:00–12:00 and 13:00–18:00).
Every computation accepts aware datetimes in any zone and answers in Asia/Shanghai.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from domain.base import DomainError, InvalidValueError

SHANGHAI = ZoneInfo("Asia/Shanghai")
_MICROS_PER_HOUR = 3_600_000_000
_MICRO = timedelta(microseconds=1)


class YearNotCovered(DomainError):
    code = "calendar.year_not_covered"
    kind = "invalid"


class NaiveDatetime(InvalidValueError):
    code = "validation.naive_datetime"


@dataclass(frozen=True)
class YearNotice:
    """One year's holiday arrangement (放假安排)."""

    year: int
    holidays: frozenset[date]
    adjusted_workdays: frozenset[date]
    source: str
    names: Mapping[date, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HolidayCalendar:
    """Working days of mainland China, by year, from the notices."""

    notices: Mapping[int, YearNotice]
    version: str
    #: Strict calendars refuse a year without a notice. Lenient ones (the SLA clocks in
    #: read models) count Monday–Friday there, so a deadline that reaches into next year
    #: before its notice is published does not stop the views; once the notice is added,
    #: clocks recompute on read and a rebuild refreshes the stored deadlines.
    lenient: bool = False

    def covers(self, year: int) -> bool:
        return year in self.notices

    def notice(self, day: date) -> YearNotice:
        found = self.notices.get(day.year)
        if found is None:
            years = sorted(self.notices)
            raise YearNotCovered(
                f"no holiday notice covers {day.year}"
                f" (covered: {years[0]}–{years[-1]}); add the year's notice to the calendar data",
                year=day.year,
            )
        return found

    def is_working_day(self, day: date) -> bool:
        if self.lenient and day.year not in self.notices:
            return day.weekday() < 5
        notice = self.notice(day)
        if day in notice.adjusted_workdays:
            return True
        if day in notice.holidays:
            return False
        return day.weekday() < 5

    def holiday_name(self, day: date) -> str | None:
        found = self.notices.get(day.year)
        return found.names.get(day) if found else None


def _from_package() -> dict[int, YearNotice]:
    import chinese_calendar  # a pure data package, loaded once

    holidays: dict[int, set[date]] = {}
    workdays: dict[int, set[date]] = {}
    names: dict[int, dict[date, str]] = {}
    for day, name in chinese_calendar.holidays.items():
        holidays.setdefault(day.year, set()).add(day)
        names.setdefault(day.year, {})[day] = str(name)
    for day in chinese_calendar.workdays:
        if day.weekday() >= 5:
            workdays.setdefault(day.year, set()).add(day)
    version = getattr(chinese_calendar, "__version__", "unknown")
    return {
        year: YearNotice(
            year=year,
            holidays=frozenset(days),
            adjusted_workdays=frozenset(workdays.get(year, ())),
            source=f"chinese_calendar {version}",
            names=names.get(year, {}),
        )
        for year, days in holidays.items()
    }


def _from_data_files() -> dict[int, YearNotice]:
    """Notices kept as data in ``calendar_data/<year>.json`` (they override the package)."""
    found: dict[int, YearNotice] = {}
    folder = resources.files("domain") / "calendar_data"
    if not folder.is_dir():
        return found
    for entry in folder.iterdir():
        if not entry.name.endswith(".json"):
            continue
        data = json.loads(entry.read_text(encoding="utf-8"))
        holidays = {date.fromisoformat(d): n for d, n in data["holidays"].items()}
        found[int(data["year"])] = YearNotice(
            year=int(data["year"]),
            holidays=frozenset(holidays),
            adjusted_workdays=frozenset(date.fromisoformat(d) for d in data["adjusted_workdays"]),
            source=str(data["source"]),
            names=holidays,
        )
    return found


@cache
def china_holidays(*, lenient: bool = False) -> HolidayCalendar:
    """The notices in force: the package's, then the data files' (newer notices win)."""
    notices = _from_package()
    notices.update(_from_data_files())
    years = sorted(notices)
    return HolidayCalendar(notices=notices, version=f"cn-{years[0]}-{years[-1]}", lenient=lenient)


def shanghai(moment: datetime, field_name: str = "time") -> datetime:
    """An aware datetime in Asia/Shanghai; a naive one is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise NaiveDatetime(f"{field_name} needs a timezone offset", field=field_name)
    return moment.astimezone(SHANGHAI)


@dataclass(frozen=True)
class BusinessCalendar:
    """Working days and business hours: the ground every service-level clock runs on."""

    days: HolidayCalendar
    windows: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13), time(18)))

    @property
    def hours_per_day(self) -> Decimal:
        micros = sum(
            (datetime.combine(date.min, end) - datetime.combine(date.min, start)) // _MICRO
            for start, end in self.windows
        )
        return Decimal(micros) / _MICROS_PER_HOUR

    def is_working_day(self, day: date) -> bool:
        return self.days.is_working_day(day)

    def next_working_day(self, day: date) -> date:
        """The first working day after ``day``."""
        candidate = day + timedelta(days=1)
        while not self.is_working_day(candidate):
            candidate += timedelta(days=1)
        return candidate

    def add_working_days(self, day: date, count: int) -> date:
        """The ``count``-th working day after ``day`` (the day itself does not count).

        A deadline of "within 7 working days" of an application made on ``day`` ends at
        the close of ``add_working_days(day, 7)``."""
        if count < 0:
            raise InvalidValueError("count of working days must not be negative")
        current = day
        for _ in range(count):
            current = self.next_working_day(current)
        return current

    def end_of_working_day(self, day: date) -> datetime:
        return datetime.combine(day, self.windows[-1][1], SHANGHAI)

    def _windows_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working windows (in Shanghai time) that end after ``moment``, in order."""
        day = moment.date()
        while True:
            if self.is_working_day(day):
                for start, end in self.windows:
                    opens = datetime.combine(day, start, SHANGHAI)
                    closes = datetime.combine(day, end, SHANGHAI)
                    if closes > moment:
                        yield max(opens, moment), closes
            day += timedelta(days=1)

    def add_business_hours(self, start: datetime, hours: Decimal | int) -> datetime:
        """The moment ``hours`` business hours after ``start`` (a start outside hours
        begins at the next opening)."""
        cursor = shanghai(start, "start")
        if Decimal(hours) < 0:
            raise InvalidValueError("business hours to add must not be negative")
        remaining = int(Decimal(hours) * _MICROS_PER_HOUR)
        if remaining == 0:
            return cursor
        for opens, closes in self._windows_from(cursor):
            available = (closes - opens) // _MICRO
            if remaining <= available:
                return opens + remaining * _MICRO
            remaining -= available
        raise AssertionError("unreachable: windows never end")  # pragma: no cover

    def business_hours_between(self, start: datetime, end: datetime) -> Decimal:
        """Hours inside working windows between two moments (0 if ``end`` ≤ ``start``)."""
        begin = shanghai(start, "start")
        finish = shanghai(end, "end")
        if finish <= begin:
            return Decimal(0)
        micros = 0
        for opens, closes in self._windows_from(begin):
            if opens >= finish:
                break
            micros += (min(closes, finish) - opens) // _MICRO
        return Decimal(micros) / _MICROS_PER_HOUR

    def hours_in(self, intervals: Iterable[tuple[datetime, datetime]]) -> Decimal:
        return sum((self.business_hours_between(a, b) for a, b in intervals), start=Decimal(0))


@cache
def default_calendar(*, lenient: bool = False) -> BusinessCalendar:
    """Mainland China, 09:00–12:00 and 13:00–18:00."""
    return BusinessCalendar(days=china_holidays(lenient=lenient))
