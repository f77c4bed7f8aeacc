"""Settings from SCHOOLGATE_* environment variables. No secret has a default in the source:
the cluster is given them (``schoolgate_kit.keys``), the embedded mode makes its own."""

from __future__ import annotations

import ipaddress
import secrets
from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


def _unshared_secret() -> SecretStr:
    """A secret no other process knows. A process given none signs with it, and nothing it
    signs is accepted elsewhere: it fails closed. The cluster's entrypoints refuse to start
    without the real one, and the embedded mode loads its own from the data directory, so
    this only ever serves a single-process test or tool."""
    return SecretStr(secrets.token_urlsafe(48))


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
    identity_secret: SecretStr = Field(default_factory=_unshared_secret)
    master_key: SecretStr | None = Field(
        default=None,
        description="Wraps every person's data key (schoolgate_kit.crypto): at least 32"
        " random characters, the same for every process, never changed without re-wrapping"
        " the keys. Without it (a test of something else) personal data is not encrypted;"
        " the cluster's entrypoints refuse to start without it, and the embedded mode makes"
        " its own on first start.",
    )
    private_store_url: str = Field(
        default="",
        description="sqlite:///path or mongodb://...: accounts, sessions, one-time tokens and"
        " the data keys; default: data_dir/private.db",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token Prometheus sends for /metrics. In production /metrics"
        " answers only to it (and not at all without one); elsewhere it is open.",
    )
    smtp_url: SecretStr = Field(
        default=SecretStr(""),
        description="The mail server: smtp://user:password@host:587?tls=starttls (tls=tls"
        " for port 465, tls=none only on a trusted network). Empty: no email is sent, and"
        " the pages say so (in-app and push only).",
    )
    mail_from: str = Field(
        default="",
        description="The From of every email, e.g. Schoolgate <schoolgate@school.example>;"
        " default: schoolgate@ the mail server's host.",
    )
    identity_ttl_seconds: int = Field(default=60, ge=5, le=3600)
    school_timezone: str = "Europe/London"
    log_level: str = "INFO"
    push_contact: str = Field(
        default="",
        pattern=r"^(|mailto:[^@\s]+@[^@\s]+|https://\S+)$",
        description="A mailto: or https: address where the push services (Google's, Mozilla's,"
        " Apple's) can reach whoever runs this Schoolgate about its web pushes: every push is"
        " signed with it (the VAPID 'sub' claim), and Apple refuses pushes without a real one.",
    )
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

    body_limit_bytes: int = Field(
        default=1 * MIB,
        ge=1024,
        description="The largest request body any route takes, counted while it arrives;"
        " upload routes declare their own larger limit (schoolgate_kit.guard.allow_body).",
    )
    body_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How long a request body may pause between two parts before the request"
        " is answered 408 and the connection closed.",
    )
    header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How long a connection has to send a request's line and headers, from"
        " its first byte (or from connecting), before it is closed.",
    )
    keep_alive_seconds: int = Field(
        default=5, gt=0, description="How long an idle connection is kept between requests."
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks (CIDR) of the reverse proxies whose"
        " X-Forwarded-For and X-Forwarded-Proto are believed. Empty: none, and a request's"
        " client is whoever connected.",
    )

    @field_validator("identity_secret")
    @classmethod
    def _secret_is_long(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 32:
            raise ValueError("SCHOOLGATE_IDENTITY_SECRET must be at least 32 characters")
        return value

    @field_validator("master_key")
    @classmethod
    def _master_key_is_long(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("SCHOOLGATE_MASTER_KEY must be at least 32 characters")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        for entry in _split(value):
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"SCHOOLGATE_TRUSTED_PROXIES: {entry!r} is not an address or a network"
                ) from None
        return value

    @property
    def trusted_proxy_list(self) -> list[str]:
        return _split(self.trusted_proxies)

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.production

    @property
    def is_development(self) -> bool:
        return self.environment is Environment.development

    def event_store_location(self) -> str:
        return self.event_store_url or f"sqlite:///{self.data_dir / 'events.db'}"

    def read_model_location(self) -> str:
        return self.read_model_url or f"sqlite:///{self.data_dir / 'readmodels.db'}"

    def private_store_location(self) -> str:
        return self.private_store_url or f"sqlite:///{self.data_dir / 'private.db'}"

    def media_location(self) -> str:
        return self.media_url or f"file://{self.data_dir / 'media'}"


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]
