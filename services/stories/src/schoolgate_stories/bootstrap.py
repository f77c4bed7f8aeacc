"""The one place the stories service is put together from real or given parts."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from schoolgate_kit.clock import utc_now
from schoolgate_kit.eventstore import EventStore
from schoolgate_kit.ids import new_id
from schoolgate_kit.media import MediaStore
from schoolgate_kit.readmodels import ReadModelStore

from schoolgate_stories.media_safety import SafeMedia, make_safe
from schoolgate_stories.settings import StoriesSettings


@dataclass
class Stories:
    settings: StoriesSettings
    store: EventStore
    readmodels: ReadModelStore
    media: MediaStore
    clock: Callable[[], datetime] = utc_now
    new_id: Callable[[], uuid.UUID] = field(default=new_id)
    make_safe: Callable[[bytes], SafeMedia] = field(default=make_safe)
