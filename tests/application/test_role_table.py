"""The README's role table is generated from the matrix and the declared entry points, and
every action of the matrix can be reached from one (or is kehu's own)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from application.context import Role
from application.errors import Unauthenticated
from application.permissions import COMMANDS, QUERIES, system_only
from application.settings import Settings
from interfaces.bootstrap import build
from interfaces.cli.main import app
from interfaces.matrix import BEGIN, END, README, entry_points, readme_with, render


def test_the_readme_role_table_is_the_generated_one() -> None:
    readme = README.read_text(encoding="utf-8")
    assert readme.count(BEGIN) == 1
    assert readme.count(END) == 1
    assert readme_with(render(entry_points()), readme) == readme, (
        "README.md's role table differs from the code: run `python -m interfaces.matrix --write`"
    )


def test_every_action_is_reachable_from_an_entry_point_or_is_the_schedulers() -> None:
    declared = {action for point in entry_points() for action in point.actions}
    unreachable = [a for a in (*COMMANDS, *QUERIES) if a not in declared and not system_only(a)]
    assert unreachable == []
    assert declared <= {*COMMANDS, *QUERIES}
    scheduler_only = {a for a in (*COMMANDS, *QUERIES) if system_only(a)}
    assert scheduler_only & declared == set()  # no caller may reach what only kehu does
    assert "complaints.record_breach" in scheduler_only


def test_the_table_marks_what_authorize_allows() -> None:
    table = render(entry_points())
    header = next(line for line in table.splitlines() if line.startswith("| action |"))
    roles = [cell.strip() for cell in header.strip("|").split("|")][1:-1]
    assert roles == [role.value for role in Role]
    row = next(line for line in table.splitlines() if line.startswith("| `credit.approve_limit"))
    marks = [cell.strip() for cell in row.strip("|").split("|")][1:-1]
    assert [role for role, mark in zip(roles, marks, strict=True) if mark == "✓"] == [
        "admin",
        "manager",
    ]
    assert "REST `POST /api/v1/credit-profiles/{profile_id}/approve-limit-change`" in row


def test_cli_key_commands_declare_what_they_do() -> None:
    points = {p.name: p.actions for p in entry_points() if p.interface == "CLI"}
    assert points["kehu keys create"] == ("keys.manage",)
    assert points["kehu keys revoke"] == ("keys.manage",)
    assert points["kehu audit trail"] == ("audit.trail",)
    assert points["kehu db init"] == ()  # operating the installation, not the business


# -- kehu keys create --scope / --expires-in-days ---------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KEHU_STORE", "sqlite")
    monkeypatch.setenv("KEHU_DATA_DIR", str(tmp_path))
    return tmp_path


def test_the_cli_issues_a_scoped_expiring_key(data_dir: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            *("keys", "create", "--role", "integrator", "--name", "ERP"),
            *("--scope", "customers.*", "--scope", "events.feed", "--expires-in-days", "30"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "scopes customers.* events.feed, expires in 30 days" in result.output
    [token] = re.findall(r"kehu_[0-9a-f]{12}_\S+", result.output)
    system = build(Settings())
    try:
        principal = system.keys.authenticate(token)
    finally:
        system.close()
    assert principal.role is Role.INTEGRATOR
    assert principal.scopes == frozenset({"customers.*", "events.feed"})


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        (["--role", "risk", "--scope", "customers.register"], "keys.scope_outside_role"),
        (["--role", "risk", "--scope", "customer.read"], "keys.unknown_scope"),
        (["--role", "system"], "keys.role_not_issuable"),
    ],
)
def test_the_cli_refuses_a_key_wider_than_its_role(
    data_dir: Path, arguments: list[str], code: str
) -> None:
    result = CliRunner().invoke(app, ["keys", "create", *arguments])
    assert result.exit_code == 1
    assert code in result.output
    assert "kehu_" not in result.output
    system = build(Settings())
    try:
        assert system.store.max_position() == 0
    finally:
        system.close()


def test_a_key_revoked_by_the_cli_is_refused(data_dir: Path) -> None:
    created = CliRunner().invoke(app, ["keys", "create", "--role", "auditor"])
    [token] = re.findall(r"kehu_[0-9a-f]{12}_\S+", created.output)
    key_id = token.split("_")[1]
    revoked = CliRunner().invoke(app, ["keys", "revoke", key_id, "--reason", "离职"])
    assert revoked.exit_code == 0, revoked.output
    system = build(Settings())
    try:
        with pytest.raises(Unauthenticated, match="revoked"):
            system.keys.authenticate(token)
    finally:
        system.close()
    again = CliRunner().invoke(app, ["keys", "revoke", key_id])
    assert again.exit_code == 1
    assert "keys.already_revoked" in again.output
