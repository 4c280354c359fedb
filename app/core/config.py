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
    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="after")
    def _refuse_defaults_in_production(self) -> Settings:
        if self.environment == "production":
            if self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 32:
                raise ValueError("SECRET_KEY must be set to a random value of 32+ characters")
            if not self.database_url:
                raise ValueError("DATABASE_URL must be set in production")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
