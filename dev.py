#!/usr/bin/env python3
"""kehu's developer entry point; needs nothing but Python 3.11+.

    python3 dev.py run      # serve kehu on the embedded SQLite store with demo data
    python3 dev.py test     # the whole test suite (SQLite and PostgreSQL)
    python3 dev.py lint     # ruff and mypy
    python3 dev.py kehu ... # any kehu CLI command inside the project's environment
    python3 dev.py bench    # the benchmark suite (PostgreSQL; --quick for a smoke run)

Each creates (or refreshes) the virtual environment in .venv first.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".kehu-installed"


def ensure_environment() -> None:
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print("creating the virtual environment in .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing kehu and its dependencies …", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(wanted)


def run(*command: str) -> int:
    return subprocess.call(list(command), cwd=ROOT)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    task, rest = argv[0], argv[1:]
    ensure_environment()
    if task == "run":
        return run(str(BIN / "kehu"), "serve", "--demo", *rest)
    if task == "test":
        return run(str(BIN / "python"), "-m", "pytest", *rest)
    if task == "lint":
        for command in (
            ["ruff", "check", "."],
            ["ruff", "format", "--check", "."],
            ["mypy", "domain", "application", "projections", "interfaces"],
        ):
            code = run(str(BIN / command[0]), *command[1:])
            if code:
                return code
        return 0
    if task == "kehu":
        return run(str(BIN / "kehu"), *rest)
    if task == "bench":
        return run(str(BIN / "python"), "-m", "bench", *rest)
    print(f"unknown task {task!r}\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
