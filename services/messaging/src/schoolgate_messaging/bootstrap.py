"""The one place the messaging service is put together from real or given parts."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field
from datetime import datetime

from schoolgate_kit.clock import utc_now
from schoolgate_kit.crypto import Keyring
from schoolgate_kit.eventstore import EventStore
from schoolgate_kit.ids import new_id
from schoolgate_kit.media import MediaStore
from schoolgate_kit.media.decoding import Decoder
from schoolgate_kit.private import PrivateStore
from schoolgate_kit.readmodels import ReadModelStore

from schoolgate_messaging.settings import MessagingSettings


@dataclass
class Messaging:
    settings: MessagingSettings
    store: EventStore
    readmodels: ReadModelStore
    media: MediaStore
    private: PrivateStore | None = None
    """Senders' rate-limit counters, shared by every replica; opened with the app when not
    given."""
    clock: Callable[[], datetime] = utc_now
    keyring: Keyring | None = None
    new_id: Callable[[], uuid.UUID] = field(default=new_id)
    decode_with: InitVar[Decoder | None] = None
    decoder: Decoder = field(init=False)
    """Makes uploads safe in limited processes, with the kit's media safety that stories
    uses too; it starts no process until the first upload."""

    def __post_init__(self, decode_with: Decoder | None) -> None:
        self.decoder = decode_with or Decoder(
            concurrency=self.settings.messaging_decode_concurrency,
            memory_max_bytes=self.settings.messaging_decode_memory_max_bytes,
        )
