"""Settings of the stories service, from SCHOOLGATE_* environment variables."""

from __future__ import annotations

from pydantic import Field
from schoolgate_kit.settings import Settings

MiB = 1024 * 1024


class StoriesSettings(Settings):
    stories_upload_max_bytes: int = Field(
        default=50 * MiB,
        ge=1024,
        le=1024 * MiB,
        description="The largest file one media upload may send; larger ones get 413.",
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> StoriesSettings:
        """The stories settings beside whatever the runtime read (its values win)."""
        if isinstance(settings, StoriesSettings):
            return settings
        return cls(**{name: getattr(settings, name) for name in Settings.model_fields})
