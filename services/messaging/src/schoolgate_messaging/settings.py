"""Settings of the messaging service, from SCHOOLGATE_* environment variables."""

from __future__ import annotations

from pydantic import Field
from schoolgate_kit.settings import Settings

MiB = 1024 * 1024


class MessagingSettings(Settings):
    messaging_upload_max_bytes: int = Field(
        default=20 * MiB,
        ge=1024,
        le=1024 * MiB,
        description="The largest photo or PDF one message upload may send; larger get 413.",
    )
    messaging_decode_concurrency: int = Field(
        default=1,
        ge=1,
        le=64,
        description="How many message uploads are made safe at once, each in its own process.",
    )
    messaging_decode_memory_max_bytes: int = Field(
        default=512 * MiB,
        ge=16 * MiB,
        le=64 * 1024 * MiB,
        description="Memory one upload's decoding process may add to itself.",
    )
    messaging_family_limit: int = Field(
        default=20,
        ge=1,
        le=10_000,
        description="Messages (and absence reports) a parent may send in ten minutes.",
    )
    messaging_staff_limit: int = Field(
        default=60,
        ge=1,
        le=10_000,
        description="Messages a member of staff may send in ten minutes.",
    )
    messaging_report_limit: int = Field(
        default=10, ge=1, le=10_000, description="Reports one person may make in ten minutes."
    )

    messaging_retention: bool = Field(
        default=True,
        description="Erase conversations past the school's retention in this process, every "
        "hour; any number of processes may (each erasure is idempotent).",
    )
    messaging_retention_every_seconds: float = Field(
        default=3600, gt=0, le=86_400, description="How often old conversations are looked for."
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> MessagingSettings:
        """The messaging settings beside whatever the runtime read (its values win)."""
        if isinstance(settings, MessagingSettings):
            return settings
        return cls(**{name: getattr(settings, name) for name in Settings.model_fields})
