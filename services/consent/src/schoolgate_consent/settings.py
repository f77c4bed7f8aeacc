"""Settings of the consent service, from SCHOOLGATE_* environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from schoolgate_kit.settings import Settings


class ConsentSettings(Settings):
    public_base_url: str = Field(
        default="http://localhost:8000",
        description="Where parents open Schoolgate; invite letters and QR codes link here.",
    )
    invite_lifetime_days: int = Field(
        default=14, ge=1, le=90, description="Unless the school or the request sets another."
    )
    redeem_attempts_per_parent: int = Field(default=10, ge=1)
    redeem_attempts_per_address: int = Field(default=30, ge=1)
    redeem_window_seconds: float = Field(default=900, gt=0)
    redeem_conflict_rounds: int = Field(
        default=8,
        ge=1,
        le=50,
        description="How often a redemption decides again when others wrote the same pupil.",
    )
    consent_private_db: Path | None = Field(
        default=None, description="The service's own store of secrets; default data_dir."
    )

    def private_db_path(self) -> Path:
        return self.consent_private_db or self.data_dir / "consent-private.db"

    @classmethod
    def from_settings(cls, settings: Settings) -> ConsentSettings:
        """The consent settings beside whatever the runtime read (its values win)."""
        if isinstance(settings, ConsentSettings):
            return settings
        return cls(**{name: getattr(settings, name) for name in Settings.model_fields})
