"""``kehu config`` prints the effective configuration as JSON, secrets hidden."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from interfaces.cli.main import app


def test_config_prints_json_with_decimals_as_text_and_secrets_hidden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KEHU_CREDIT_APPROVAL_THRESHOLD", "2500000.50")
    monkeypatch.setenv("KEHU_AUDIT_KEY", "a-very-secret-audit-key-0123456789")
    monkeypatch.setenv("KEHU_DATABASE_URL", "postgresql://kehu:hunter2@db.example:5432/kehu")
    result = CliRunner().invoke(app, ["config"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["credit_approval_threshold"] == "2500000.50"
    assert shown["audit_key"] == "**********"
    assert shown["database_url"] == "postgresql://kehu:***@db.example:5432/kehu"
    assert "hunter2" not in result.output
    assert "a-very-secret" not in result.output
