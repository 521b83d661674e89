"""Results: ``bench/results/<timestamp>.json``, ``latest.json``, ``latest.md`` (the table),
``aggregate_load.svg`` (the curve), and the README's "Benchmarks" block regenerated from
``latest.md`` between its markers."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg

from .common import ROOT, Row, admin_dsn

RESULTS = ROOT / "bench" / "results"
README = ROOT / "README.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
LIBRARIES = (
    "eventsourcing",
    "psycopg",
    "fastapi",
    "uvicorn",
    "strawberry-graphql",
    "pydantic",
    "httpx",
)


def machine() -> dict[str, Any]:
    """Where the numbers were measured."""
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in cpuinfo.splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    total_kb = next(
        (int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal:")), 0
    )
    with psycopg.connect(admin_dsn()) as conn:
        server = conn.execute("SHOW server_version").fetchone()
        synchronous = conn.execute("SHOW synchronous_commit").fetchone()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "ram_gib": round(total_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": server[0] if server else None,
        "synchronous_commit": synchronous[0] if synchronous else None,
        "libraries": {name: _version(name) for name in LIBRARIES},
        "kehu_commit": commit,
        "load_average_at_end": [round(v, 2) for v in os.getloadavg()],
    }


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}"


def _goal(row: Row) -> str:
    if row.goal is None:
        return "—"
    operator, target = row.goal
    sign = "≥" if operator == ">=" else "≤"
    if row.goal_on == "ratio":
        return f"{sign} {target:g}×"
    return f"{sign} {_number(target, row.unit)}"


def table(rows: list[Row]) -> str:
    lines = [
        "| benchmark | kehu | comparison | ratio | goal | result |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        met, how = row.verdict()
        comparison = (
            f"{_number(row.comparison, row.unit)} ({row.comparison_name})"
            if row.comparison is not None
            else "—"
        )
        ratio = f"{row.ratio:.2f}×" if row.ratio is not None else "—"
        result = "—" if met is None else ("met" if met else f"**{how}**")
        name = row.benchmark + (f" — {row.note}" if row.note else "")
        lines.append(
            f"| {name} | {_number(row.kehu, row.unit)} | {comparison} | {ratio} | {_goal(row)} | {result} |"
        )
    return "\n".join(lines)


def markdown(
    rows: list[Row], stamp: dict[str, Any], sizes: dict[str, Any], started: str, seconds: float
) -> str:
    libraries = ", ".join(f"{k} {v}" for k, v in stamp["libraries"].items() if v)
    return "\n".join(
        [
            f"Run {started} ({'quick' if sizes.get('quick') else 'full'} sizes, {seconds / 60:.0f} min) on"
            f" {stamp['cpus']} × {stamp['cpu_model']}, {stamp['ram_gib']} GiB RAM; Python {stamp['python']};"
            f" PostgreSQL {stamp['postgresql']} (synchronous_commit {stamp['synchronous_commit']});"
            f" {libraries}; kehu {stamp['kehu_commit']}. Load average (1/5/15 min) at the start"
            f" {sizes.get('load_average_at_start')}, at the end {stamp['load_average_at_end']}:"
            " other work on the machine shares its two cores. Ratios are turned so that above 1"
            " favours kehu.",
            "",
            table(rows),
            "",
        ]
    )


def svg_curve(curve: list[dict[str, Any]]) -> str:
    """Load time against history length, both axes logarithmic: replaying every event
    and starting from a snapshot."""
    width, height, left, bottom, top, right = 560, 340, 70, 50, 30, 150
    xs = [math.log10(p["events"]) for p in curve]
    values = [p[key] for p in curve for key in ("replay_ms", "snapshot_ms")]
    y_low = math.floor(math.log10(min(values)))
    y_high = math.ceil(math.log10(max(values)))
    x_low, x_high = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1

    def at(events: float, ms: float) -> tuple[float, float]:
        x = left + (math.log10(events) - x_low) / (x_high - x_low) * (width - left - right)
        y = (
            height
            - bottom
            - (math.log10(ms) - y_low) / max(y_high - y_low, 1) * (height - bottom - top)
        )
        return x, y

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="18" font-size="14">Customer aggregate load time vs history length</text>',
    ]
    for power in range(y_low, y_high + 1):
        _, y = at(10**x_low, 10**power)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        parts.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{10**power:g} ms</text>'
        )
    for point in curve:
        x, _ = at(point["events"], 10**y_low)
        parts.append(
            f'<text x="{x:.1f}" y="{height - bottom + 18}" text-anchor="middle">{point["events"]:,}</text>'
        )
    parts.append(
        f'<text x="{(width - right + left) / 2}" y="{height - 10}" text-anchor="middle">events in the stream</text>'
    )
    for key, colour, label in (
        ("replay_ms", "#c0392b", "replay (kehu today)"),
        ("snapshot_ms", "#2471a3", "from a snapshot"),
    ):
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (at(p["events"], p[key]) for p in curve))
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        for p in curve:
            x, y = at(p["events"], p[key])
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
        _, y = at(curve[-1]["events"], curve[-1][key])
        parts.append(
            f'<text x="{width - right + 8}" y="{y + 4:.1f}" fill="{colour}">{label}</text>'
        )
    _, goal_y = at(10**x_low, 3)
    parts.append(
        f'<line x1="{left}" y1="{goal_y:.1f}" x2="{width - right}" y2="{goal_y:.1f}" stroke="#27ae60" stroke-dasharray="4 3"/>'
    )
    parts.append(
        f'<text x="{width - right + 8}" y="{goal_y + 4:.1f}" fill="#27ae60">goal 3 ms</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write(
    rows: list[Row],
    details: dict[str, Any],
    sizes: dict[str, Any],
    started: datetime,
    seconds: float,
) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = machine()
    when = started.strftime("%Y-%m-%dT%H:%M:%SZ")
    document = {
        "started": when,
        "seconds": seconds,
        "sizes": sizes,
        "machine": stamp,
        "rows": [row.as_json() for row in rows],
        "details": details,
    }
    text = json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"
    path = RESULTS / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(text, encoding="utf-8")
    (RESULTS / "latest.json").write_text(text, encoding="utf-8")
    (RESULTS / "latest.md").write_text(
        markdown(rows, stamp, sizes, when, seconds), encoding="utf-8"
    )
    curve = details.get("aggregates", {}).get("curve")
    if curve:
        (RESULTS / "aggregate_load.svg").write_text(svg_curve(curve), encoding="utf-8")
    return path


def update_readme(readme: Path = README, latest: Path = RESULTS / "latest.md") -> bool:
    """Put ``latest.md`` between the README's markers; True if the README changed."""
    text = readme.read_text(encoding="utf-8")
    begin, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    block = "\n" + latest.read_text(encoding="utf-8").strip() + "\n"
    if text[begin:end] == block:
        return False
    readme.write_text(text[:begin] + block + text[end:], encoding="utf-8")
    return True


def now() -> datetime:
    return datetime.now(UTC)
