"""Settings from SCHOOLGATE_* environment variables; default secrets only in development."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_IDENTITY_SECRET = "development-only-identity-secret-change-me"


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SCHOOLGATE_", extra="ignore")

    environment: Environment = Environment.development
    data_dir: Path = Path("var")
    event_store_url: str = Field(
        default="", description="sqlite:///path or kurrentdb://...; default: data_dir/events.db"
    )
    read_model_url: str = Field(
        default="", description="sqlite:///path or mongodb://...; default: data_dir/readmodels.db"
    )
    bus_url: str = Field(default="memory://", description="memory:// or amqp://...")
    media_url: str = Field(
        default="",
        description="file://path or mongodb://... (GridFS); default: data_dir/media",
    )
    identity_secret: SecretStr = SecretStr(DEV_IDENTITY_SECRET)
    identity_ttl_seconds: int = Field(default=60, ge=5, le=3600)
    school_timezone: str = "Europe/London"
    log_level: str = "INFO"
    consumer_max_deliveries: int = Field(default=5, ge=1, le=100)
    consumer_prefetch: int = Field(default=64, ge=1, le=10_000)
    publish_timeout_seconds: float = Field(default=10.0, gt=0)
    opentelemetry: bool = Field(
        default=False,
        description="FastAPI's own OpenTelemetry spans, metrics and logs, to the providers"
        " configured for the process. Off by default: Prometheus at /metrics and the logs"
        " cover operations, and checking for providers on every request cost a twentieth"
        " of an award.",
    )
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    rebuild_workers: int = Field(
        default=0,
        ge=0,
        le=64,
        description="Processes a rebuild folds the log in, for read models that add up"
        " (totals): 0 means one per CPU this process may use, at most 4; 1 never starts"
        " another process.",
    )

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if (
            self.environment is not Environment.development
            and self.identity_secret.get_secret_value() == DEV_IDENTITY_SECRET
        ):
            raise ValueError(
                "SCHOOLGATE_IDENTITY_SECRET must be set outside development "
                f"(SCHOOLGATE_ENVIRONMENT={self.environment.value})"
            )
        return self

    @property
    def is_development(self) -> bool:
        return self.environment is Environment.development

    def event_store_location(self) -> str:
        return self.event_store_url or f"sqlite:///{self.data_dir / 'events.db'}"

    def read_model_location(self) -> str:
        return self.read_model_url or f"sqlite:///{self.data_dir / 'readmodels.db'}"

    def media_location(self) -> str:
        return self.media_url or f"file://{self.data_dir / 'media'}"
