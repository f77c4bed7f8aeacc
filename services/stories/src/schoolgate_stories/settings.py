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

    stories_media_retention: bool = Field(
        default=True,
        description="Run the media retention (deleted posts' media, expired uploads) in this "
        "process; exactly one process of a deployment should.",
    )
    stories_unattached_upload_hours: float = Field(
        default=12,
        gt=0,
        le=23,
        description="An upload no post or portfolio item holds is deleted once this old "
        "(within the next sweep): under a day, sweep included.",
    )
    stories_media_sweep_seconds: float = Field(
        default=600, gt=0, le=3600, description="How often expired uploads are looked for."
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> StoriesSettings:
        """The stories settings beside whatever the runtime read (its values win)."""
        if isinstance(settings, StoriesSettings):
            return settings
        return cls(**{name: getattr(settings, name) for name in Settings.model_fields})
