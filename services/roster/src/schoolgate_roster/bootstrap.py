"""The one place the roster service is put together from real or given parts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from schoolgate_kit.clock import utc_now
from schoolgate_kit.crypto import Keyring
from schoolgate_kit.eventstore import EventStore
from schoolgate_kit.ids import new_id
from schoolgate_kit.readmodels import ReadModelStore
from schoolgate_kit.settings import Settings

from schoolgate_roster.adapters import ImportJobs
from schoolgate_roster.reading import Reader

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
"""Base64 in one document stays under MongoDB's 16 MB limit."""


@dataclass
class Roster:
    settings: Settings
    store: EventStore
    readmodels: ReadModelStore
    clock: Callable[[], datetime] = utc_now
    keyring: Keyring | None = None
    """The deployment's: erasing a pupil destroys their key (``handlers.erase_pupil``)."""
    new_id: Callable[[], uuid.UUID] = field(default=new_id)
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    reader: Reader = field(default_factory=Reader)
    """Reads uploads in processes of their own, one at a time (``reading``)."""
    jobs: ImportJobs = field(init=False)
    previews: dict[str, Any] = field(default_factory=dict, init=False)
    """The snapshots of the last few small previews this process read, by job key: an apply
    of one of them decides on it again without reading the file a second time."""
    accepting: set[str] = field(default_factory=set, init=False)
    """Jobs whose apply this process is accepting: two applies at once for one job would
    both find it previewed before either had saved it applying."""
    starting: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)
    """Held while an upload is counted against its school's bound and saved as a job, so
    that uploads sent at once cannot all be counted before any is saved."""
    _background: set[asyncio.Task[None]] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self.jobs = ImportJobs(self.readmodels)

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``work`` beside the requests; the app's lifespan cancels it at shutdown."""
        task = asyncio.create_task(work, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def stop_background(self) -> None:
        tasks = list(self._background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
