"""The mainland-China business calendar: working days, adjusted days, business hours.

Expected dates are read off the State Council notices, written out literally."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import NaiveDatetime, YearNotCovered, default_calendar

SH = ZoneInfo("Asia/Shanghai")
CAL = default_calendar()


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 10, 1), False),  # National Day
        (date(2025, 10, 8), False),  # National Day / Mid-Autumn bridge
        (date(2025, 9, 28), True),  # Sunday worked (调休)
        (date(2025, 10, 11), True),  # Saturday worked (调休)
        (date(2025, 1, 26), True),  # Sunday worked before Spring Festival 2025
        (date(2025, 2, 4), False),  # Spring Festival 2025
        (date(2025, 2, 8), True),  # Saturday worked after Spring Festival 2025
        (date(2026, 2, 14), True),  # Saturday worked before Spring Festival 2026
        (date(2026, 2, 17), False),  # Spring Festival 2026
        (date(2025, 5, 5), False),  # Labour Day 2025
        (date(2025, 4, 27), True),  # Sunday worked before Labour Day 2025
        (date(2025, 5, 31), False),  # Dragon Boat 2025 (a Saturday)
        (date(2025, 6, 2), False),  # Dragon Boat 2025 observed on Monday
        (date(2025, 11, 22), False),  # an ordinary Saturday
        (date(2025, 11, 24), True),  # an ordinary Monday
    ],
)
def test_working_days_follow_the_notices(day: date, working: bool) -> None:
    assert CAL.is_working_day(day) is working


def test_holidays_carry_their_names() -> None:
    assert CAL.days.holiday_name(date(2025, 10, 1)) is not None
    assert CAL.days.holiday_name(date(2025, 11, 24)) is None


def test_seven_working_days_from_a_worked_sunday_cross_national_day() -> None:
    # 9-29, 9-30, 10-9, 10-10, 10-11 (Sat, worked), 10-13, 10-14
    assert CAL.add_working_days(date(2025, 9, 28), 7) == date(2025, 10, 14)


def test_seven_working_days_across_spring_festival_2026() -> None:
    # 2-11, 2-12, 2-13, 2-14 (Sat, worked), then 2-15..2-23 off, 2-24, 2-25, 2-26
    assert CAL.add_working_days(date(2026, 2, 10), 7) == date(2026, 2, 26)


def test_business_hours_skip_the_lunch_break() -> None:
    assert CAL.add_business_hours(at(2025, 11, 24, 11, 0), 2) == at(2025, 11, 24, 14, 0)
    assert CAL.business_hours_between(at(2025, 11, 24, 11, 0), at(2025, 11, 24, 14, 0)) == 2


def test_a_start_outside_hours_begins_at_the_next_opening() -> None:
    assert CAL.add_business_hours(at(2025, 11, 21, 19, 30), 1) == at(2025, 11, 24, 10, 0)
    assert CAL.add_business_hours(at(2025, 11, 24, 12, 30), 1) == at(2025, 11, 24, 14, 0)


def test_a_full_window_ends_at_its_close_not_the_next_opening() -> None:
    assert CAL.add_business_hours(at(2025, 11, 24, 9, 0), 3) == at(2025, 11, 24, 12, 0)


def test_hours_run_through_the_national_day_holiday_to_the_worked_saturday() -> None:
    start = at(2025, 9, 30, 17, 0)
    assert CAL.add_business_hours(start, 4) == at(2025, 10, 9, 12, 0)
    assert CAL.add_business_hours(start, 24) == at(2025, 10, 11, 17, 0)
    assert CAL.business_hours_between(start, at(2025, 10, 11, 17, 0)) == Decimal(24)


def test_any_timezone_is_accepted_and_answers_are_in_shanghai() -> None:
    moment = datetime(2025, 11, 24, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    result = CAL.add_business_hours(moment, Decimal("1.5"))
    assert result == at(2025, 11, 24, 10, 30)
    assert result.utcoffset() == at(2025, 1, 1, 0, 0).utcoffset()


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(NaiveDatetime) as refused:
        CAL.add_business_hours(datetime(2025, 11, 24, 9, 0), 1)
    assert refused.value.code == "validation.naive_datetime"


def test_a_year_without_a_notice_is_refused_not_guessed() -> None:
    with pytest.raises(YearNotCovered) as refused:
        CAL.is_working_day(date(2031, 3, 3))
    assert refused.value.code == "calendar.year_not_covered"


def test_eight_business_hours_a_day() -> None:
    assert CAL.hours_per_day == 8


def test_a_lenient_calendar_counts_weekdays_in_a_year_without_a_notice() -> None:
    lenient = default_calendar(lenient=True)
    assert lenient.is_working_day(date(2031, 3, 3)) is True  # a Monday
    assert lenient.is_working_day(date(2031, 3, 1)) is False  # a Saturday
    assert lenient.is_working_day(date(2025, 10, 1)) is False  # notices still rule


def test_a_notice_added_as_data_decides_its_year() -> None:
    from domain.calendar import BusinessCalendar, HolidayCalendar, YearNotice

    notice = YearNotice(
        year=2031,
        holidays=frozenset({date(2031, 1, 1)}),
        adjusted_workdays=frozenset({date(2031, 1, 4)}),  # a Saturday worked
        source="test notice",
    )
    calendar = BusinessCalendar(days=HolidayCalendar(notices={2031: notice}, version="t"))
    assert calendar.is_working_day(date(2031, 1, 1)) is False
    assert calendar.is_working_day(date(2031, 1, 4)) is True
    # Wed 1-1 is off; Thu 1-2, Fri 1-3, then the worked Saturday 1-4.
    assert calendar.add_working_days(date(2031, 1, 1), 3) == date(2031, 1, 4)
