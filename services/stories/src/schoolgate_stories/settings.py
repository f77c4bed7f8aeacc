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
    stories_decode_concurrency: int = Field(
        default=2,
        ge=1,
        le=64,
        description="How many uploads are made safe at once, each in a process of its own; "
        "others wait their turn.",
    )
    stories_decode_memory_max_bytes: int = Field(
        # The most a picture within the pixel limits needs is about 390 MB (a 25-megapixel
        # WebP with transparency); a 50-megapixel progressive JPEG about 220 MB.
        default=512 * MiB,
        ge=16 * MiB,
        le=64 * 1024 * MiB,
        description="Memory one upload's decoding process may add to itself; an upload that "
        "needs more is refused (422, too large to process).",
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> StoriesSettings:
        """The stories settings beside whatever the runtime read (its values win)."""
        if isinstance(settings, StoriesSettings):
            return settings
        return cls(**{name: getattr(settings, name) for name in Settings.model_fields})
