"""The one place the notifications service is put together from real or given parts."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from schoolgate_contracts.envelope import Metadata
from schoolgate_kit.clock import utc_now
from schoolgate_kit.eventstore import EventStore
from schoolgate_kit.identity import Identity
from schoolgate_kit.ids import new_id
from schoolgate_kit.private import PrivateStore
from schoolgate_kit.readmodels import ReadModelStore

from schoolgate_notifications.settings import NotificationsSettings


@dataclass
class Notifications:
    settings: NotificationsSettings
    store: EventStore
    readmodels: ReadModelStore
    private: PrivateStore | None = None
    """What each person has seen, push keys and subscriptions; opened with the app when not
    given."""
    clock: Callable[[], datetime] = utc_now
    new_id: Callable[[], uuid.UUID] = field(default=new_id)

    def metadata(self, identity: Identity, correlation_id: str) -> Metadata:
        return Metadata(
            occurred_at=self.clock(),
            school_id=identity.school_id,
            actor=identity.subject,
            correlation_id=correlation_id,
        )

    def require_private(self) -> PrivateStore:
        if self.private is None:
            raise RuntimeError("the private store is opened with the app")
        return self.private
