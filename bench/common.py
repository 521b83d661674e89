"""What every benchmark shares: the bench databases, kehu's settings over them, served
processes, percentiles, peak memory and the result rows.

The suite runs against ``KEHU_BENCH_POSTGRES_DSN`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``): it creates the database ``kehu_bench``
and works only there, one schema per data set or benchmark (each benchmark's schemas are
dropped and made afresh when it starts; the data set's are kept for the next run).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg

from application.settings import Settings
from application.store import Kehu
from application.subject_keys import MasterKeys, master_keys_for

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE = "kehu_bench"
AUDIT_KEY = "kehu-bench-audit-key-0123456789abcdef"
#: Wraps each person's data key (personal data is encrypted per person).
MASTER_KEY = "kehu-bench-master-key-0123456789abcdef"


def admin_dsn() -> str:
    return os.environ.get("KEHU_BENCH_POSTGRES_DSN", DEFAULT_DSN)


def dsn_for(database: str) -> str:
    """The admin DSN pointed at another database on the same server."""
    parts = urlsplit(admin_dsn())
    return urlunsplit(parts._replace(path=f"/{database}"))


def ensure_database(name: str) -> None:
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if found is None:
            conn.execute(f'CREATE DATABASE "{name}"')


def drop_schema(database: str, schema: str) -> None:
    with psycopg.connect(dsn_for(database), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def ensure_schema(database: str, schema: str) -> None:
    with psycopg.connect(dsn_for(database), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')


def settings_for(schema: str, **overrides: Any) -> Settings:
    """kehu's settings over one schema of the bench database."""
    return Settings(
        store="postgres",
        database_url=dsn_for(DATABASE),
        postgres_schema=schema,
        audit_key=AUDIT_KEY,
        master_key=MASTER_KEY,
        **overrides,
    )


def kehu_store(schema: str, *, create_table: bool = False, **env: str) -> Kehu:
    """kehu's event store over one schema of the bench database (its master key given)."""
    settings = settings_for(schema)
    store = Kehu(
        {**settings.event_store_env(create_table=create_table), **env},
        master_keys=master_keys_for(settings, create=False),
    )
    if create_table:
        store.keys.table.create()
    return store


class BenchKehu(Kehu):
    """kehu's application as the library's ProjectionRunner constructs it (from ``env``
    alone), with the bench's master key."""

    name = Kehu.name  # the same tables

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env, master_keys=MasterKeys.from_secrets(MASTER_KEY))


def kehu_env(schema: str, **extra: str) -> dict[str, str]:
    """The environment of a ``kehu`` subprocess over one schema (API alone: the projections
    and the scheduler off unless asked)."""
    env = dict(os.environ)
    env.update(
        {
            "KEHU_STORE": "postgres",
            "KEHU_DATABASE_URL": dsn_for(DATABASE),
            "KEHU_POSTGRES_SCHEMA": schema,
            "KEHU_AUDIT_KEY": AUDIT_KEY,
            "KEHU_MASTER_KEY": MASTER_KEY,
            "KEHU_RUN_PROJECTIONS": "false",
            "KEHU_RUN_SCHEDULER": "false",
            "KEHU_LOG_LEVEL": "warning",
        }
    )
    env.update(extra)
    return env


def kehu_cli(*args: str, env: dict[str, str]) -> str:
    """Run the ``kehu`` command and return what it printed on stdout."""
    done = subprocess.run(  # noqa: S603 - our own command
        [str(BIN / "kehu"), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"kehu {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def served(command: Sequence[str], env: dict[str, str], port: int) -> Iterator[Server]:
    """A server process, up once ``/healthz`` answers; stopped (by its own pid) after."""
    with tempfile.TemporaryFile(mode="w+") as log:  # an unread pipe would block the server
        process = subprocess.Popen(  # noqa: S603 - our own commands
            list(command), env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log, text=True
        )
        try:
            yield _started(Server(process, f"http://127.0.0.1:{port}"), log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _started(server: Server, log: IO[str]) -> Server:
    deadline = time.monotonic() + 120
    while True:
        if server.process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"server exited: {log.read()[-2000:]}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start within 120 s")
        time.sleep(0.2)


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str

    def peak_rss_mb(self) -> float:
        return peak_rss_mb(self.process.pid)


def peak_rss_mb(pid: int) -> float:
    """The resident-set high-water mark (VmHWM) of a running process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def own_peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) by linear interpolation between closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


@dataclass
class Row:
    """One line of the results table.

    ``kehu`` and ``comparison`` are measured values in ``unit``; ``ratio`` is kehu's value
    over the comparison's, turned so that above 1 means kehu is better; ``goal`` is
    ``(operator, value)`` on the measured value (``">="``/``"<="``), or on the ratio when
    ``goal_on`` is ``"ratio"``."""

    benchmark: str
    kehu: float | None
    unit: str
    comparison: float | None = None
    comparison_name: str = ""
    higher_is_better: bool = True
    goal: tuple[str, float] | None = None
    goal_on: str = "kehu"
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.kehu is None or self.comparison is None or not self.comparison or not self.kehu:
            return None
        return self.kehu / self.comparison if self.higher_is_better else self.comparison / self.kehu

    def verdict(self) -> tuple[bool | None, str]:
        """Met or not, and by how much it was missed (text)."""
        if self.goal is None:
            return None, ""
        operator, target = self.goal
        value = self.ratio if self.goal_on == "ratio" else self.kehu
        if value is None:
            return None, "not measured"
        met = value >= target if operator == ">=" else value <= target
        if met:
            return True, "met"
        if operator == ">=":
            return False, f"missed: {value / target:.0%} of goal ({target / value:.1f}× short)"
        return False, f"missed: {value / target:.1f}× the limit"

    def as_json(self) -> dict[str, Any]:
        met, how = self.verdict()
        data = asdict(self)
        data.update(ratio=self.ratio, met=met, verdict=how)
        return data
