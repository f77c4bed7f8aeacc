"""The one place the stories service is put together from real or given parts."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field
from datetime import datetime, timedelta

from schoolgate_kit.clock import utc_now
from schoolgate_kit.crypto import Keyring
from schoolgate_kit.eventstore import EventStore
from schoolgate_kit.ids import new_id
from schoolgate_kit.media import MediaStore
from schoolgate_kit.media.decoding import Decoder
from schoolgate_kit.readmodels import ReadModelStore

from schoolgate_stories.media_retention import MediaRetention
from schoolgate_stories.settings import StoriesSettings


@dataclass
class Stories:
    settings: StoriesSettings
    store: EventStore
    readmodels: ReadModelStore
    media: MediaStore
    clock: Callable[[], datetime] = utc_now
    keyring: Keyring | None = None
    """The deployment's: deleting a story destroys the key its words were sealed with."""
    new_id: Callable[[], uuid.UUID] = field(default=new_id)
    decode_with: InitVar[Decoder | None] = None
    decoder: Decoder = field(init=False)
    """Makes uploads safe in limited processes: ``decode_with``, or one built from the
    settings. It starts no process until the first upload."""
    retention: MediaRetention = field(init=False)
    """Deletes media nothing shows any more; the app runs it (``run``) if the settings say."""

    def __post_init__(self, decode_with: Decoder | None) -> None:
        self.decoder = decode_with or Decoder(
            concurrency=self.settings.stories_decode_concurrency,
            memory_max_bytes=self.settings.stories_decode_memory_max_bytes,
        )
        self.retention = MediaRetention(
            store=self.store,
            readmodels=self.readmodels,
            media=self.media,
            clock=self.clock,
            unattached_ttl=timedelta(hours=self.settings.stories_unattached_upload_hours),
        )

    async def close(self) -> None:
        """Ends uploads' decoding processes still running (for the app's shutdown)."""
        await self.decoder.close()
