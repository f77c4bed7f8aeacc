"""Settings of the consent service, from SCHOOLGATE_* environment variables."""

from __future__ import annotations

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
    private_store_url: str = Field(
        default="",
        description="sqlite:///path or mongodb://...: invite codes and attempt counters,"
        " shared by every replica (and, embedded, the gateway); default: data_dir/private.db",
    )

    def private_store_location(self) -> str:
        return self.private_store_url or f"sqlite:///{self.data_dir / 'private.db'}"

    @classmethod
    def from_settings(cls, settings: Settings) -> ConsentSettings:
        """The consent settings beside whatever the runtime read (its values win)."""
        if isinstance(settings, ConsentSettings):
            return settings
        return cls(**{name: getattr(settings, name) for name in Settings.model_fields})
