"""The one WHERE builder of the read side, run against a real SQLite table: each filter
narrows only when given, times compare as stored UTC text, and a LIKE search matches
``%`` and ``_`` literally."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from projections.base import Where

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def db() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id TEXT, status TEXT, name TEXT, at TEXT, due TEXT)")
    rows = [
        ("a", "open", "青禾 100%", "2025-10-01T01:00:00.000000+00:00", "2025-10-01"),
        ("b", "closed", "恒远_贸易", "2025-10-02T01:00:00.000000+00:00", "2025-10-05"),
        ("c", "open", "Yunshan Trading", "2025-10-03T01:00:00.000000+00:00", "2025-10-09"),
    ]
    conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?)", rows)
    return conn


def ids(db: sqlite3.Connection, where: Where) -> list[str]:
    return [r[0] for r in db.execute(f"SELECT id FROM t{where.sql} ORDER BY id", where.params)]


def test_no_filter_given_means_no_condition(db: sqlite3.Connection) -> None:
    where = Where().equal("status", None).within("status", []).contains("name", "")
    assert where.sql == ""
    assert where.params == []
    assert ids(db, where) == ["a", "b", "c"]


def test_filters_are_joined_with_and(db: sqlite3.Connection) -> None:
    assert ids(db, Where().equal("status", "open")) == ["a", "c"]
    assert ids(db, Where().within("id", ["a", "b"]).equal("status", "open")) == ["a"]


def test_time_bounds_are_half_open_and_compare_in_utc(db: sqlite3.Connection) -> None:
    # 2025-10-02 09:00 in Shanghai is 01:00 UTC: the row at that instant is included
    # from it and excluded before it.
    start = datetime(2025, 10, 2, 9, 0, tzinfo=SH)
    assert ids(db, Where().at_least("at", start)) == ["b", "c"]
    assert ids(db, Where().before("at", start)) == ["a"]
    assert ids(db, Where().after("at", start.astimezone(UTC))) == ["c"]
    assert ids(db, Where().at_most("due", date(2025, 10, 5))) == ["a", "b"]


def test_contains_ignores_case_and_matches_wildcards_literally(db: sqlite3.Connection) -> None:
    assert ids(db, Where().contains("name", "yunshan")) == ["c"]
    assert ids(db, Where().contains("name", "100%")) == ["a"]
    assert ids(db, Where().contains("name", "_")) == ["b"]  # not "any one character"
    assert ids(db, Where().contains(["name", "status"], "CLOSED")) == ["b"]
