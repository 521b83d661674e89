"""The mainland-China business calendar (工作日历): working days from the holiday notices,
business hours, working-day deadlines.

Every expected date is written out literally, read off the State Council notices (and checked
against ``chinese_calendar`` when the tests were written) — never recomputed here."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from domain.base import InvalidValueError
from domain.calendar import (
    BusinessCalendar,
    CalendarDataError,
    CalendarVersion,
    HolidayCalendar,
    HolidayName,
    InvalidBusinessHours,
    NaiveDatetime,
    NegativeDuration,
    YearNotCovered,
    calendar_version_from_dict,
    china_holidays,
    default_calendar,
    load_calendar_versions,
)

SH = ZoneInfo("Asia/Shanghai")
CAL = default_calendar()


def at(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A Shanghai wall-clock time."""
    return datetime(year, month, day, hour, minute, tzinfo=SH)


# ------------------------------------------------------------------ working days


def test_an_ordinary_weekend_is_off_and_the_week_resumes_on_monday() -> None:
    assert CAL.is_working_day(date(2025, 11, 21)) is True  # Friday
    assert CAL.is_working_day(date(2025, 11, 22)) is False  # Saturday
    assert CAL.is_working_day(date(2025, 11, 23)) is False  # Sunday
    assert CAL.next_working_day(date(2025, 11, 21)) == date(2025, 11, 24)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 1, 26), True),  # Sunday worked (调休上班) before the holiday
        (date(2025, 1, 27), True),  # Monday, the last day before 除夕
        (date(2025, 1, 28), False),  # 除夕, first day off
        (date(2025, 2, 1), False),  # Saturday inside the holiday
        (date(2025, 2, 4), False),  # 正月初七, last day off (a Tuesday)
        (date(2025, 2, 5), True),
        (date(2025, 2, 8), True),  # Saturday worked after the holiday
    ],
)
def test_spring_festival_2025_with_its_adjusted_working_days(day: date, working: bool) -> None:
    assert CAL.is_working_day(day) is working


def test_spring_festival_2025_is_skipped_in_one_step() -> None:
    assert CAL.next_working_day(date(2025, 1, 27)) == date(2025, 2, 5)
    # From Friday 01-24: Sun 01-26 (worked), Mon 01-27, then 02-05, 02-06, 02-07,
    # Sat 02-08 (worked), Mon 02-10.
    assert CAL.add_working_days(date(2025, 1, 24), 7) == date(2025, 2, 10)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 2, 14), True),  # Saturday worked before the holiday
        (date(2026, 2, 15), False),  # 腊月二十八 (a Sunday), first day off
        (date(2026, 2, 17), False),  # 正月初一
        (date(2026, 2, 23), False),  # Monday, last day off
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # Saturday worked after the holiday
    ],
)
def test_spring_festival_2026_with_its_adjusted_working_days(day: date, working: bool) -> None:
    assert CAL.is_working_day(day) is working


def test_seven_working_days_across_spring_festival_2026() -> None:
    # 02-11, 02-12, 02-13, Sat 02-14 (worked), then 02-15..02-23 off, 02-24, 02-25, 02-26.
    assert CAL.add_working_days(date(2026, 2, 10), 7) == date(2026, 2, 26)
    assert CAL.working_days_between(date(2026, 2, 1), date(2026, 2, 28)) == 16


def test_labour_day_2025_is_five_days_off_with_a_worked_sunday_before() -> None:
    assert CAL.is_working_day(date(2025, 4, 27)) is True  # Sunday worked
    for day in range(1, 6):
        assert CAL.is_working_day(date(2025, 5, day)) is False  # 05-01 (Thu) .. 05-05 (Mon)
    assert CAL.next_working_day(date(2025, 4, 30)) == date(2025, 5, 6)


def test_dragon_boat_festival_is_off_including_the_monday_it_joins() -> None:
    assert CAL.is_working_day(date(2025, 5, 31)) is False  # 端午, a Saturday
    assert CAL.is_working_day(date(2025, 6, 2)) is False  # Monday joined to the weekend
    assert CAL.next_working_day(date(2025, 5, 30)) == date(2025, 6, 3)
    assert CAL.is_working_day(date(2026, 6, 19)) is False  # 端午 2026, a Friday


def test_national_day_2025_and_mid_autumn_are_eight_days_off_between_two_worked_weekends() -> None:
    assert CAL.is_working_day(date(2025, 9, 28)) is True  # Sunday worked
    assert [CAL.is_working_day(date(2025, 10, d)) for d in range(1, 9)] == [False] * 8
    assert CAL.is_working_day(date(2025, 10, 11)) is True  # Saturday worked
    assert CAL.working_days_between(date(2025, 10, 1), date(2025, 10, 31)) == 18


def test_seven_working_days_from_a_worked_sunday_cross_national_day() -> None:
    # The Sunday itself does not count: 09-29, 09-30, 10-09, 10-10, Sat 10-11 (worked),
    # 10-13, 10-14.
    assert CAL.add_working_days(date(2025, 9, 28), 7) == date(2025, 10, 14)


def test_a_working_day_deadline_ends_at_the_close_of_its_last_day() -> None:
    """Seed 003: a VIP application is answered within 7 working days. Received on the
    worked Sunday 2025-09-28 (any time of day), the answer is due by close of business on
    the 7th working day after it, Tuesday 2025-10-14 18:00."""
    assert CAL.working_days_deadline(date(2025, 9, 28), 7) == at(2025, 10, 14, 18, 0)
    assert CAL.working_days_deadline(at(2025, 9, 28, 23, 30), 7) == at(2025, 10, 14, 18, 0)
    # 2025-09-27 20:00 UTC is already Sunday 04:00 in Shanghai.
    sunday_in_shanghai = datetime(2025, 9, 27, 20, 0, tzinfo=UTC)
    assert CAL.working_days_deadline(sunday_in_shanghai, 7) == at(2025, 10, 14, 18, 0)


def test_adding_zero_working_days_gives_the_day_back_and_negative_counts_are_refused() -> None:
    assert CAL.add_working_days(date(2025, 10, 1), 0) == date(2025, 10, 1)
    with pytest.raises(NegativeDuration) as refused:
        CAL.add_working_days(date(2025, 10, 1), -1)
    assert refused.value.code == "calendar.negative_duration"
    with pytest.raises(NegativeDuration):
        CAL.working_days_deadline(date(2025, 10, 1), 0)


def test_a_year_of_working_days_counts_every_notice() -> None:
    # 2025: 261 weekdays, 18 of them off, 5 weekend days worked.
    assert CAL.working_days_between(date(2025, 1, 1), date(2025, 12, 31)) == 248
    assert CAL.business_hours_between(at(2025, 1, 1, 0, 0), at(2026, 1, 1, 0, 0)) == 1984


# -------------------------------------------------------------------- the data


def test_the_2026_arrangement_names_its_notice_and_version() -> None:
    version = china_holidays().version_for(date(2026, 5, 1))
    assert version.year == 2026
    assert version.version == "cn-2026.1"
    assert "国办发明电〔2025〕7号" in version.source
    assert version.published_on == date(2025, 11, 4)
    assert date(2026, 1, 4) in version.adjusted_workdays  # a Sunday worked after 元旦


def test_a_year_adjusted_by_a_later_notice_has_a_later_version() -> None:
    version = china_holidays().version_for(date(2020, 2, 1))
    assert version.version == "cn-2020.2"  # the Spring Festival extension
    assert version.published_on == date(2020, 1, 26)
    assert [n.number for n in version.notices] == [
        "国办发明电〔2019〕16号",
        "国办发明电〔2020〕1号",
    ]
    # The extension made Saturday 2020-02-01, first announced as a working day, a day off.
    assert CAL.is_working_day(date(2020, 2, 1)) is False
    assert CAL.is_working_day(date(2020, 2, 3)) is True


def test_holidays_carry_chinese_and_english_names() -> None:
    days = CAL.days
    assert days.holiday_name(date(2025, 10, 1)) == HolidayName("国庆节", "National Day")
    assert days.holiday_name(date(2025, 10, 6)) == HolidayName("中秋节", "Mid-Autumn Festival")
    assert days.holiday_name(date(2025, 1, 29)) == HolidayName("春节", "Spring Festival")
    assert days.holiday_name(date(2025, 5, 31)) == HolidayName("端午节", "Dragon Boat Festival")
    assert str(days.holiday_name(date(2025, 5, 1))) == "劳动节 Labour Day"
    assert days.holiday_name(date(2025, 11, 24)) is None


def test_the_packaged_data_covers_2019_through_2026() -> None:
    versions = load_calendar_versions()
    assert sorted(versions) == list(range(2019, 2027))
    assert china_holidays().version == "cn-2019-2026@2025-11-04"


def test_the_runtime_calendar_needs_only_its_data_files() -> None:
    """``chinese_calendar`` wrote the data; the domain must work without it."""
    script = (
        "import sys; sys.modules['chinese_calendar'] = None\n"
        "from datetime import date\n"
        "from domain.calendar import default_calendar\n"
        "assert default_calendar().add_working_days(date(2025, 9, 28), 7) == date(2025, 10, 14)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


def test_a_year_without_a_notice_is_refused_not_guessed() -> None:
    with pytest.raises(YearNotCovered) as refused:
        CAL.is_working_day(date(2027, 3, 1))
    assert refused.value.code == "calendar.year_not_covered"
    assert refused.value.details == {"year": 2027}
    with pytest.raises(YearNotCovered):
        CAL.is_working_day(date(2018, 6, 1))


def test_business_time_that_runs_into_an_uncovered_year_is_refused() -> None:
    with pytest.raises(YearNotCovered):
        CAL.add_business_hours(at(2026, 12, 31, 17, 0), 2)
    with pytest.raises(YearNotCovered):
        CAL.business_hours_between(at(2026, 12, 30, 9, 0), at(2027, 1, 5, 9, 0))
    with pytest.raises(YearNotCovered):
        CAL.add_working_days(date(2026, 12, 30), 5)


def test_a_lenient_calendar_counts_weekdays_in_a_year_without_a_notice() -> None:
    lenient = default_calendar(lenient=True)
    assert lenient.is_working_day(date(2027, 3, 1)) is True  # a Monday
    assert lenient.is_working_day(date(2027, 3, 6)) is False  # a Saturday
    assert lenient.is_working_day(date(2025, 10, 1)) is False  # notices still rule
    # Thu 2026-12-31 17:00 + 2 hours: 17:00–18:00, then Fri 2027-01-01 09:00–10:00.
    assert lenient.add_business_hours(at(2026, 12, 31, 17, 0), 2) == at(2027, 1, 1, 10, 0)


def test_a_new_year_is_a_data_record() -> None:
    record = {
        "format": 1,
        "year": 2031,
        "version": "cn-2031.1",
        "source": "a test notice",
        "published_on": "2030-11-01",
        "holidays": [{"date": "2031-01-01", "zh": "元旦", "en": "New Year's Day"}],
        "adjusted_workdays": [{"date": "2031-01-04", "zh": "元旦", "en": "New Year's Day"}],
    }
    version = calendar_version_from_dict(record)
    calendar = BusinessCalendar(
        days=HolidayCalendar(notices={2031: version}, version="test"),
    )
    assert calendar.is_working_day(date(2031, 1, 1)) is False  # a Wednesday off
    assert calendar.is_working_day(date(2031, 1, 4)) is True  # a Saturday worked
    # Thu 01-02, Fri 01-03, then the worked Saturday 01-04.
    assert calendar.add_working_days(date(2031, 1, 1), 3) == date(2031, 1, 4)


@pytest.mark.parametrize(
    "change",
    [
        {"holidays": [{"date": "2030-12-31", "zh": "x", "en": "x"}]},  # another year
        {"adjusted_workdays": [{"date": "2031-01-06", "zh": "x", "en": "x"}]},  # a Monday
        {"holidays": [{"date": "2031-01-01"}]},  # no name
        {"published_on": "soon"},
        {"format": 2},
    ],
)
def test_a_malformed_data_record_is_refused(change: dict[str, object]) -> None:
    record: dict[str, object] = {
        "year": 2031,
        "version": "cn-2031.1",
        "source": "a test notice",
        "published_on": "2030-11-01",
        "holidays": [],
        "adjusted_workdays": [],
        **change,
    }
    with pytest.raises(CalendarDataError) as refused:
        calendar_version_from_dict(record)
    assert refused.value.code == "calendar.invalid_data"


def test_a_day_cannot_be_both_off_and_worked() -> None:
    with pytest.raises(CalendarDataError):
        CalendarVersion(
            year=2031,
            holidays=frozenset({date(2031, 1, 4)}),
            adjusted_workdays=frozenset({date(2031, 1, 4)}),
            source="test",
        )


# ---------------------------------------------------------------- business hours


def test_business_hours_skip_the_lunch_break() -> None:
    assert CAL.add_business_hours(at(2025, 11, 24, 11, 0), 2) == at(2025, 11, 24, 14, 0)
    assert CAL.business_hours_between(at(2025, 11, 24, 11, 0), at(2025, 11, 24, 14, 0)) == 2
    assert CAL.business_hours_between(at(2025, 11, 24, 12, 0), at(2025, 11, 24, 13, 0)) == 0


def test_a_start_outside_hours_begins_at_the_next_opening() -> None:
    # Friday evening → Monday 09:00 + 1 hour.
    assert CAL.add_business_hours(at(2025, 11, 21, 19, 30), 1) == at(2025, 11, 24, 10, 0)
    # Lunch break → 13:00 + 1 hour.
    assert CAL.add_business_hours(at(2025, 11, 24, 12, 30), 1) == at(2025, 11, 24, 14, 0)
    # Early morning → 09:00 + 30 minutes.
    assert CAL.add_business_hours(at(2025, 11, 24, 7, 0), Decimal("0.5")) == at(2025, 11, 24, 9, 30)
    # A Saturday → Monday.
    assert CAL.add_business_hours(at(2025, 11, 22, 10, 0), 8) == at(2025, 11, 24, 18, 0)


def test_a_full_window_ends_at_its_close_not_the_next_opening() -> None:
    assert CAL.add_business_hours(at(2025, 11, 24, 9, 0), 3) == at(2025, 11, 24, 12, 0)
    assert CAL.add_business_hours(at(2025, 11, 24, 9, 0), 8) == at(2025, 11, 24, 18, 0)


def test_hours_run_through_the_national_day_holiday_to_the_worked_saturday() -> None:
    start = at(2025, 9, 30, 17, 0)
    assert CAL.add_business_hours(start, 4) == at(2025, 10, 9, 12, 0)
    assert CAL.add_business_hours(start, 24) == at(2025, 10, 11, 17, 0)
    assert CAL.business_hours_between(start, at(2025, 10, 11, 17, 0)) == 24


def test_hours_run_across_spring_festival_2026_through_its_worked_saturday() -> None:
    # Fri 02-13 17:00–18:00 (1), Sat 02-14 worked (8) → 9 hours end at 02-14 18:00;
    # the 10th is Tue 02-24 09:00–10:00.
    assert CAL.add_business_hours(at(2026, 2, 13, 17, 0), 9) == at(2026, 2, 14, 18, 0)
    assert CAL.add_business_hours(at(2026, 2, 13, 17, 0), 10) == at(2026, 2, 24, 10, 0)


def test_hours_skip_the_dragon_boat_long_weekend() -> None:
    # Fri 05-30 17:00–18:00, then 05-31..06-02 off, Tue 06-03 09:00–10:00.
    assert CAL.add_business_hours(at(2025, 5, 30, 17, 0), 2) == at(2025, 6, 3, 10, 0)


def test_adding_zero_hours_stays_put_and_negative_hours_are_refused() -> None:
    assert CAL.add_business_hours(at(2025, 10, 1, 8, 0), 0) == at(2025, 10, 1, 8, 0)
    with pytest.raises(NegativeDuration):
        CAL.add_business_hours(at(2025, 11, 24, 9, 0), -1)
    assert CAL.business_hours_between(at(2025, 11, 24, 12, 0), at(2025, 11, 24, 10, 0)) == 0


def test_any_timezone_is_accepted_and_answers_are_in_shanghai() -> None:
    moment = datetime(2025, 11, 24, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    result = CAL.add_business_hours(moment, Decimal("1.5"))
    assert result == at(2025, 11, 24, 10, 30)
    assert result.tzinfo == SH
    berlin = datetime(2025, 11, 24, 2, 0, tzinfo=timezone(timedelta(hours=1)))  # 09:00 SH
    assert CAL.business_hours_between(berlin, at(2025, 11, 24, 12, 0)) == 3


@pytest.mark.parametrize(
    "call",
    [
        lambda: CAL.add_business_hours(datetime(2025, 11, 24, 9, 0), 1),
        lambda: CAL.business_hours_between(datetime(2025, 11, 24, 9, 0), at(2025, 11, 25, 9, 0)),
        lambda: CAL.business_hours_between(at(2025, 11, 24, 9, 0), datetime(2025, 11, 25, 9, 0)),
        lambda: CAL.working_days_deadline(datetime(2025, 11, 24, 9, 0), 1),
    ],
)
def test_a_naive_datetime_is_refused(call: object) -> None:
    with pytest.raises(NaiveDatetime) as refused:
        call()  # type: ignore[operator]
    assert refused.value.code == "validation.naive_datetime"
    assert isinstance(refused.value, InvalidValueError)


def test_business_hours_are_configurable_windows() -> None:
    calendar = BusinessCalendar(
        days=china_holidays(), windows=[(time(8, 30), time(12)), (time(13, 30), time(17, 30))]
    )
    assert calendar.hours_per_day == Decimal("7.5")
    # 11:00–12:00, then 13:30–14:30.
    assert calendar.add_business_hours(at(2025, 11, 24, 11, 0), 2) == at(2025, 11, 24, 14, 30)
    assert calendar.end_of_working_day(date(2025, 11, 24)) == at(2025, 11, 24, 17, 30)
    assert CAL.hours_per_day == 8


@pytest.mark.parametrize(
    "windows",
    [
        [],
        [(time(12), time(9))],
        [(time(9), time(13)), (time(12), time(18))],
        [(time(13), time(18)), (time(9), time(12))],
    ],
)
def test_reversed_overlapping_or_missing_business_hours_are_refused(
    windows: list[tuple[time, time]],
) -> None:
    with pytest.raises(InvalidBusinessHours) as refused:
        BusinessCalendar(days=china_holidays(), windows=tuple(windows))
    assert refused.value.code == "calendar.invalid_business_hours"
