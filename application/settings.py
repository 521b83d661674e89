"""kehu's configuration: one pydantic-settings class, read from ``KEHU_*`` variables
and an optional ``.env`` file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Effective configuration. ``kehu config`` prints it with secrets hidden."""

    model_config = SettingsConfigDict(env_prefix="KEHU_", env_file=".env", extra="ignore")

    store: Literal["sqlite", "postgres"] = Field(
        "sqlite", description="Event store: the embedded SQLite file, or PostgreSQL."
    )
    data_dir: Path = Field(
        Path("var"), description="Where the SQLite files live (events and read models)."
    )
    database_url: SecretStr | None = Field(
        None,
        description="PostgreSQL event store, e.g. postgresql://kehu:secret@127.0.0.1:5432/kehu",
    )
    postgres_schema: str = Field("public", description="PostgreSQL schema for kehu's tables.")
    postgres_pool_size: int = Field(3, ge=1, le=50)
    postgres_max_overflow: int = Field(2, ge=0, le=50)
    read_database_url: SecretStr | None = Field(
        None,
        description="Optional separate PostgreSQL database for the read models "
        "(defaults to the event store's database).",
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64, description="API processes behind `kehu serve`.")
    run_projections: bool = Field(
        True,
        description="Run the projection workers inside `kehu serve` "
        "(turn off when `kehu worker` runs them).",
    )
    run_scheduler: bool = Field(
        True,
        description="Run time-driven policies (SLA escalation) inside `kehu serve`"
        " (turn off when `kehu worker` runs them).",
    )
    scheduler_interval: float = Field(
        30.0, gt=0, le=3600, description="Seconds between policy runs."
    )
    sla_policy_file: Path | None = Field(
        None,
        description="JSON SLA policy (targets per priority, VIP tiers); the default policy"
        " if absent. See domain.sla.policy_from_dict.",
    )
    vip_policy_file: Path | None = Field(
        None,
        description="JSON VIP tier policy (versions with effective dates); the declared"
        " policy in domain/policy_data/vip_policy.json if absent.",
    )
    kpi_targets_file: Path | None = Field(
        None,
        description="JSON KPI targets for the dashboard, over the defaults (satisfaction"
        " rate ≥ 0.90, CSAT ≥ 4.0, NPS ≥ 30, retention rate ≥ 0.85, complaint handling ≤ 24"
        ' business hours), e.g. {"satisfaction_rate": {"at_least": "0.92"}, "nps": null}.'
        " See projections.dashboard.targets_from_dict.",
    )
    at_risk_quiet_days: int = Field(
        180, ge=1, le=3650, description="No purchase for this many days flags a customer at risk"
    )
    at_risk_complaints: int = Field(
        3, ge=1, le=100, description="This many complaints within the window flag a customer"
    )
    at_risk_complaint_window_days: int = Field(
        90, ge=1, le=3650, description="The window for counting complaints"
    )
    at_risk_low_rating: int = Field(
        2,
        ge=1,
        le=5,
        description="A latest satisfaction rating (a service request's, or a complaint's"
        " confirmation) at or below this flags a customer",
    )
    credit_approval_threshold: Decimal = Field(
        Decimal(1_000_000),
        gt=0,
        description="Credit limits above this amount (in the profile's currency) need a"
        " second person's approval (four eyes).",
    )
    credit_overdue_tolerance_days: int = Field(
        0,
        ge=0,
        le=365,
        description="Days past due an overdue invoice is tolerated before it blocks new"
        " orders (0: any recorded overdue blocks).",
    )
    dashboard_cache_seconds: float = Field(
        15.0,
        ge=0,
        le=3600,
        description="How long the live dashboard's figures are reused while no read model has"
        " moved (0: computed for every request). Its `asOf` says which moment they describe.",
    )
    asof_cache_size: int = Field(
        2,
        ge=1,
        le=16,
        description="How many past states of the read models `dashboard(asOf:)` keeps, least"
        " recently used dropped first. Each is a scratch store replayed up to a past position"
        " (a SQLite file beside the read models, or a PostgreSQL schema <schema>_asof_…).",
    )
    projection_batch_size: int = Field(500, ge=1, le=10_000)
    projection_poll_interval: float = Field(0.05, gt=0, le=10)
    min_position_timeout: float = Field(
        5.0, gt=0, le=60, description="How long a query waits for `minPosition`."
    )
    command_retries: int = Field(
        10, ge=0, le=50, description="Reloads after a concurrent write before giving up."
    )
    audit_key: SecretStr | None = Field(
        None,
        min_length=16,
        description="Key (HMAC-SHA256) that signs the audit checkpoints of the hash chain over"
        " the stored events. Required with PostgreSQL (without it events are chained but"
        " nothing is signed); on SQLite, if unset, a key is generated in <data_dir>/audit.key"
        " (development and demos only). Keep it away from the database.",
    )
    master_key: SecretStr | None = Field(
        None,
        min_length=16,
        description="Master key that wraps each person's data key (personal data is encrypted"
        " per person, so that erasing one key erases that person). Required with PostgreSQL;"
        " on SQLite, if unset, a key is generated in <data_dir>/master.key (development and"
        " demos only). Keep it away from the database.",
    )
    master_keys_retired: SecretStr | None = Field(
        None,
        description="Earlier master keys, comma-separated, still able to unwrap data keys until"
        " `kehu privacy rotate-master-key` has re-wrapped them under KEHU_MASTER_KEY.",
    )
    subject_key_cache_seconds: float = Field(
        10.0,
        ge=0,
        le=3600,
        description="How long a process keeps a person's data key and PIPL status in memory:"
        " an erasure or restriction made elsewhere reaches it within this time.",
    )
    audit_checkpoint_every: int = Field(
        1000, ge=1, le=1_000_000, description="Sign an audit checkpoint every this many events."
    )
    audit_checkpoint_seconds: float = Field(
        5.0,
        gt=0,
        le=3600,
        description="The running sealer also signs the events sealed since the last"
        " checkpoint when this many seconds have passed.",
    )
    audit_batch_size: int = Field(
        1000, ge=1, le=100_000, description="Events sealed per transaction."
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    max_request_bytes: int = Field(
        1_048_576, ge=1024, le=1_073_741_824, description="Largest request body (413 above)."
    )
    graphql_max_query_chars: int = Field(20_000, ge=100, le=1_000_000)
    graphql_max_tokens: int = Field(5_000, ge=100, le=1_000_000)
    graphql_max_aliases: int = Field(30, ge=0, le=10_000)
    graphql_max_depth: int = Field(12, ge=2, le=100, description="Fields nested, leaf included.")
    graphql_max_cost: int = Field(
        20_000, ge=10, le=100_000_000, description="Fields a query may resolve, lists by `first`."
    )
    hsts_max_age: int = Field(
        0, ge=0, le=63_072_000, description="Strict-Transport-Security over https (0: not sent)."
    )

    @field_validator("postgres_schema")
    @classmethod
    def _schema_is_identifier(cls, value: str) -> str:
        if not value.replace("_", "").isalnum() or not value[0].isalpha():
            raise ValueError("a schema name is letters, digits and underscores")
        return value

    def _pg_env(self, url: SecretStr | None) -> dict[str, str]:
        if url is None:
            raise ValueError("KEHU_DATABASE_URL is required when KEHU_STORE=postgres")
        parts = urlsplit(url.get_secret_value())
        if parts.scheme not in ("postgres", "postgresql"):
            raise ValueError("KEHU_DATABASE_URL must start with postgresql://")
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or "postgres",
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_SCHEMA": self.postgres_schema,
            "POSTGRES_POOL_SIZE": str(self.postgres_pool_size),
            "POSTGRES_MAX_OVERFLOW": str(self.postgres_max_overflow),
            "POSTGRES_LOCK_TIMEOUT": "10",
            "POSTGRES_CONNECT_TIMEOUT": "10",
            # Tailing readers were seen to miss events with the database functions on.
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        }

    def event_store_env(self, *, create_table: bool) -> dict[str, str]:
        """Environment for the library's infrastructure factory (event store)."""
        if self.store == "postgres":
            env = self._pg_env(self.database_url)
        else:
            env = {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.data_dir / "events.sqlite"),
                "SQLITE_LOCK_TIMEOUT": "30",
            }
        env["CREATE_TABLE"] = "y" if create_table else "n"
        return env

    def read_model_env(self, *, create_table: bool) -> dict[str, str]:
        """Environment for the read-model database (views and their tracking)."""
        if self.store == "postgres":
            env = self._pg_env(self.read_database_url or self.database_url)
        else:
            env = {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.data_dir / "readmodels.sqlite"),
                "SQLITE_LOCK_TIMEOUT": "30",
            }
        env["CREATE_TABLE"] = "y" if create_table else "n"
        return env

    def public_view(self) -> dict[str, Any]:
        """The configuration as ``kehu config`` shows it: secrets hidden."""
        shown: dict[str, Any] = {}
        for name, value in self.model_dump().items():
            if isinstance(value, SecretStr):
                raw = value.get_secret_value()
                parts = urlsplit(raw)
                if not name.endswith("_url"):  # a key, not a URL: nothing of it is shown
                    raw = "**********"
                elif parts.password:
                    raw = raw.replace(f":{parts.password}@", ":***@")
                shown[name] = raw
            elif isinstance(value, Path | Decimal):
                shown[name] = str(value)  # JSON-ready; a Decimal never becomes a float
            else:
                shown[name] = value
        return shown
