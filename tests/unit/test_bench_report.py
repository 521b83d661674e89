"""The benchmark suite's own arithmetic: percentiles, ratios turned so that above 1
favours kehu, goals met or missed by how much, the Markdown table and the README block."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.common import Row, percentile
from bench.report import BEGIN, END, table, update_readme


def test_percentile_interpolates_between_closest_ranks():
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([7.0], 95) == 7.0
    assert percentile([3.0, 1.0, 2.0], 100) == 3.0


def test_a_ratio_above_one_favours_kehu_whichever_way_the_unit_runs():
    faster = Row("throughput", 900.0, "req/s", 300.0, "naive")
    quicker = Row("latency", 20.0, "ms", 60.0, "naive", higher_is_better=False)
    assert faster.ratio == pytest.approx(3.0)
    assert quicker.ratio == pytest.approx(3.0)


def test_a_missed_goal_says_by_how_much():
    short = Row("vs naive", 400.0, "req/s", 200.0, "naive", goal=(">=", 3.0), goal_on="ratio")
    slow = Row("p99", 150.0, "ms", higher_is_better=False, goal=("<=", 50.0))
    met = Row("verify", 120_000.0, "events/s", goal=(">=", 100_000.0))
    assert short.verdict() == (False, "missed: 67% of goal (1.5× short)")
    assert slow.verdict() == (False, "missed: 3.0× the limit")
    assert met.verdict() == (True, "met")


def test_the_table_shows_each_row_with_its_goal_and_result():
    rows = [
        Row("p99", 150.0, "ms", 300.0, "naive", higher_is_better=False, goal=("<=", 50.0)),
        Row("memory", 118.4, "MiB"),
    ]
    lines = table(rows).splitlines()
    assert (
        lines[2]
        == "| p99 | 150 ms | 300 ms (naive) | 2.00× | ≤ 50.0 ms | **missed: 3.0× the limit** |"
    )
    assert lines[3] == "| memory | 118 MiB | — | — | — | — |"


def test_the_readme_block_is_replaced_between_its_markers_only(tmp_path: Path):
    readme = tmp_path / "README.md"
    latest = tmp_path / "latest.md"
    readme.write_text(f"# kehu\n\n{BEGIN}\nold table\n{END}\n\n## Layout\n", encoding="utf-8")
    latest.write_text("| new | table |\n", encoding="utf-8")
    assert update_readme(readme, latest) is True
    assert readme.read_text(encoding="utf-8") == (
        f"# kehu\n\n{BEGIN}\n| new | table |\n{END}\n\n## Layout\n"
    )
    assert update_readme(readme, latest) is False
