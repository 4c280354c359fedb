"""Settings, read from the environment (and a `.env` file) by pydantic-settings."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "dev-only-secret-change-me"  # noqa: S105 - refused in production below


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL; when unset the embedded PostgreSQL under data_dir is used.",
    )
    data_dir: Path = Path(".data")
    secret_key: str = Field(
        default=DEFAULT_SECRET_KEY,
        description="Signs pagination cursors. Production refuses the default.",
    )

    db_pool_size: int = Field(default=40, ge=1, le=500)
    db_max_overflow: int = Field(default=10, ge=0, le=500)
    db_pool_timeout_s: float = Field(default=3.0, gt=0)
    db_connect_timeout_s: float = Field(default=3.0, gt=0)
    db_statement_timeout_ms: int = Field(default=15_000, ge=100)
    db_lock_timeout_ms: int = Field(default=5_000, ge=100)
    db_idle_in_transaction_timeout_ms: int = Field(default=30_000, ge=1_000)

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    batch_max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    idempotency_ttl_hours: int = Field(default=24, ge=1)
    retry_after_s: int = Field(default=2, ge=1)
    otel: bool = Field(
        default=False,
        description="FastAPI's native OpenTelemetry spans, metrics and logs, for an installed "
        "and configured OpenTelemetry SDK. Off by default: the service's own metrics are at "
        "/metrics, and the check costs every request.",
    )
    tally_compact_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How often each `inovasi serve` worker folds the dashboards' tally deltas "
        "(app/models/summaries.py) into one row per key. The figures are exact either way; "
        "folding keeps the rows a dashboard sums to a few per key.",
    )
    log_level: str = "INFO"
    log_json: bool = True

    # Outbound webhooks (app.webhooks).
    webhook_dispatcher: bool = Field(
        default=True,
        description="Run the webhook dispatcher inside `inovasi serve` (each worker process "
        "claims its share); `inovasi webhooks work` runs one on its own.",
    )
    webhook_http_hosts: list[str] | None = Field(
        default=None,
        description="Hosts a target may reach over plain http (else https only). Unset: "
        "127.0.0.1 and localhost in development and test, none in production.",
    )
    webhook_private_networks: list[str] | None = Field(
        default=None,
        description="Networks (CIDR) a target may resolve to although private, loopback or "
        "link-local. Unset: loopback in development and test, none in production.",
    )
    webhook_connect_timeout_s: float = Field(default=5.0, gt=0, le=60)
    webhook_timeout_s: float = Field(
        default=10.0, gt=0, le=60, description="Whole request, response body included."
    )
    webhook_max_response_bytes: int = Field(default=64 * 1024, ge=1024, le=1024 * 1024)
    webhook_retry_window_s: float = Field(
        default=86_400.0,
        gt=0,
        description="How long a failing delivery is retried before its subscription is "
        "marked failing (at least 24 hours in production).",
    )
    webhook_backoff_base_s: float = Field(default=5.0, gt=0)
    webhook_backoff_max_s: float = Field(default=3_600.0, gt=0)
    webhook_lease_s: float = Field(
        default=60.0,
        gt=0,
        description="How long a dispatcher holds a subscription between renewals; a "
        "dispatcher that dies is replaced after this.",
    )
    webhook_poll_interval_s: float = Field(default=0.25, gt=0, le=60)
    webhook_max_in_flight: int = Field(
        default=16, ge=1, le=1000, description="Subscriptions delivered to at once."
    )

    @property
    def webhook_allowed_http_hosts(self) -> list[str]:
        if self.webhook_http_hosts is not None:
            return self.webhook_http_hosts
        return [] if self.environment == "production" else ["127.0.0.1", "localhost"]

    @property
    def webhook_allowed_networks(self) -> list[str]:
        if self.webhook_private_networks is not None:
            return self.webhook_private_networks
        return [] if self.environment == "production" else ["127.0.0.0/8", "::1/128"]

    @model_validator(mode="after")
    def _refuse_defaults_in_production(self) -> Settings:
        if self.environment == "production":
            if self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 32:
                raise ValueError("SECRET_KEY must be set to a random value of 32+ characters")
            if not self.database_url:
                raise ValueError("DATABASE_URL must be set in production")
            if self.webhook_retry_window_s < 86_400:
                raise ValueError("WEBHOOK_RETRY_WINDOW_S must be at least 24 hours")
        if self.webhook_lease_s <= self.webhook_connect_timeout_s + self.webhook_timeout_s:
            raise ValueError("WEBHOOK_LEASE_S must exceed the connect and request timeouts")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
