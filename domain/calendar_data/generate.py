"""Write the calendar data files (``<year>.json`` and ``index.json``) — run by hand.

The working-day facts come from the maintained package ``chinese_calendar`` (a development
tool here: the domain never imports it at run time); the notice each year's arrangement was
published in (国务院办公厅关于××年部分节假日安排的通知, and any later adjustment) is listed
in :data:`NOTICES` below, because the package does not carry it. Before writing, every day of
each year is checked against ``chinese_calendar.is_workday``.

Usage, from the project root::

    .venv/bin/python -m domain.calendar_data.generate            # every year in NOTICES
    .venv/bin/python -m domain.calendar_data.generate 2027       # one year (and the index)
    .venv/bin/python -m domain.calendar_data.generate --check    # compare, write nothing

When the State Council publishes next year's notice (usually October–December):

1. upgrade ``chinese_calendar`` to a release that carries it (or write ``<year>.json`` by
   hand in the same format, from the notice);
2. add the notice to :data:`NOTICES` — under the new year, and under the previous year too
   if its New Year holiday reaches back into December;
3. run this script for the year(s) and review the diff; the version of a year is
   ``cn-<year>.<number of notices that shaped it>``, so an adjustment is visible.

A new year is therefore a data change; :mod:`domain.calendar` needs no edit.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import chinese_calendar

FORMAT = 1
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Notice:
    number: str  # 发文字号
    title: str
    published_on: date


def _yearly(year: int, number: str, published_on: date) -> Notice:
    return Notice(number, f"国务院办公厅关于{year}年部分节假日安排的通知", published_on)


_N2019 = _yearly(2019, "国办发明电〔2018〕15号", date(2018, 12, 4))
_N2019_LABOUR = Notice(
    "国办发明电〔2019〕3号", "国务院办公厅关于调整2019年劳动节假期安排的通知", date(2019, 3, 22)
)
_N2020 = _yearly(2020, "国办发明电〔2019〕16号", date(2019, 11, 21))
_N2020_SPRING = Notice(
    "国办发明电〔2020〕1号", "国务院办公厅关于延长2020年春节假期的通知", date(2020, 1, 26)
)
_N2021 = _yearly(2021, "国办发明电〔2020〕27号", date(2020, 11, 25))
_N2022 = _yearly(2022, "国办发明电〔2021〕11号", date(2021, 10, 25))
_N2023 = _yearly(2023, "国办发明电〔2022〕16号", date(2022, 12, 8))
_N2024 = _yearly(2024, "国办发明电〔2023〕7号", date(2023, 10, 25))
_N2025 = _yearly(2025, "国办发明电〔2024〕12号", date(2024, 11, 12))
_N2026 = _yearly(2026, "国办发明电〔2025〕7号", date(2025, 11, 4))

#: The notices whose arrangement falls in each calendar year, oldest first.
NOTICES: dict[int, tuple[Notice, ...]] = {
    2019: (_N2019, _N2019_LABOUR),  # Labour Day extended to 05-01..05-04
    2020: (_N2020, _N2020_SPRING),  # Spring Festival extended to 02-02
    2021: (_N2021,),
    2022: (_N2022, _N2023),  # 2022-12-31 is the 2023 New Year holiday
    2023: (_N2023, _N2024),  # 2023-12-30/31 are joined to the 2024 New Year holiday
    2024: (_N2024,),
    2025: (_N2025,),
    2026: (_N2026,),
}

#: Holiday names, keyed by ``chinese_calendar``'s English name: (Chinese, English).
NAMES: dict[str, tuple[str, str]] = {
    "New Year's Day": ("元旦", "New Year's Day"),
    "Spring Festival": ("春节", "Spring Festival"),
    "Tomb-sweeping Day": ("清明节", "Qingming Festival (Tomb-sweeping Day)"),
    "Labour Day": ("劳动节", "Labour Day"),
    "Dragon Boat Festival": ("端午节", "Dragon Boat Festival"),
    "Mid-autumn Festival": ("中秋节", "Mid-Autumn Festival"),
    "National Day": ("国庆节", "National Day"),
}


def _name(value: object) -> dict[str, str]:
    zh, en = NAMES[str(value)]
    return {"zh": zh, "en": en}


def year_data(year: int) -> dict[str, Any]:
    """One year's arrangement as written to ``<year>.json``, checked day by day."""
    notices = NOTICES[year]
    first, last = date(year, 1, 1), date(year, 12, 31)
    days_off = sorted(d for d in chinese_calendar.holidays if d.year == year)
    worked = sorted(d for d in chinese_calendar.workdays if d.year == year and d.weekday() >= 5)
    off, on = set(days_off), set(worked)
    day = first
    while day <= last:
        ours = day in on or (day not in off and day.weekday() < 5)
        if ours != chinese_calendar.is_workday(day):
            raise SystemExit(f"{day}: derived working={ours}, chinese_calendar disagrees")
        day += timedelta(days=1)
    latest = notices[-1]
    source = "; ".join(
        f"State Council General Office notice {n.number} ({n.title})" for n in notices
    )
    return {
        "format": FORMAT,
        "year": year,
        "version": f"cn-{year}.{len(notices)}",
        "source": source,
        "published_on": latest.published_on.isoformat(),
        "notices": [
            {"number": n.number, "title": n.title, "published_on": n.published_on.isoformat()}
            for n in notices
        ],
        "generated_from": f"chinese_calendar {chinese_calendar.__version__}",
        "holidays": [
            {"date": d.isoformat(), **_name(chinese_calendar.holidays[d])} for d in days_off
        ],
        "adjusted_workdays": [
            {"date": d.isoformat(), **_name(chinese_calendar.workdays[d])} for d in worked
        ],
    }


def index_data(years: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "calendar": "mainland China (中国大陆) working days, Asia/Shanghai",
        "years": [
            {
                "year": year,
                "file": f"{year}.json",
                "version": data["version"],
                "published_on": data["published_on"],
            }
            for year, data in sorted(years.items())
        ],
    }


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _dump(data: dict[str, Any]) -> str:
    """JSON with one list item per line, so a notice's change reads well in a diff."""
    members = []
    for key, value in data.items():
        if isinstance(value, list) and value:
            items = ",\n".join(f"    {_json(item)}" for item in value)
            members.append(f"  {_json(key)}: [\n{items}\n  ]")
        else:
            members.append(f"  {_json(key)}: {_json(value)}")
    return "{\n" + ",\n".join(members) + "\n}\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("years", nargs="*", type=int, help="years to write (default: all)")
    parser.add_argument("--check", action="store_true", help="compare with the files only")
    args = parser.parse_args(argv)
    wanted = args.years or sorted(NOTICES)
    written: dict[int, dict[str, Any]] = {}
    for year in sorted(NOTICES):
        path = HERE / f"{year}.json"
        if year in wanted:
            written[year] = year_data(year)
        elif path.exists():
            written[year] = json.loads(path.read_text(encoding="utf-8"))
    files = {HERE / f"{year}.json": _dump(data) for year, data in written.items() if year in wanted}
    files[HERE / "index.json"] = _dump(index_data(written))
    stale = [p.name for p, text in files.items() if not p.exists() or p.read_text("utf-8") != text]
    if args.check:
        print("stale: " + ", ".join(stale) if stale else "calendar data is up to date")
        return 1 if stale else 0
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    print("wrote " + ", ".join(p.name for p in files))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
