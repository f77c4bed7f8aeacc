"""The one place the consent service is put together from real or given parts."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from schoolgate_kit.clock import utc_now
from schoolgate_kit.eventstore import EventStore
from schoolgate_kit.ids import new_id
from schoolgate_kit.mail import Mailer
from schoolgate_kit.readmodels import ReadModelStore

from schoolgate_consent import domain
from schoolgate_consent.adapters.private import PrivateStore
from schoolgate_consent.settings import ConsentSettings


@dataclass
class Consent:
    settings: ConsentSettings
    store: EventStore
    readmodels: ReadModelStore
    private: PrivateStore
    clock: Callable[[], datetime] = utc_now
    mailer: Mailer | None = None
    """The deployment's mail server (invite letters by email); None where there is none."""
    new_id: Callable[[], uuid.UUID] = field(default=new_id)
    new_code: Callable[[], str] = field(default=domain.new_code)


def bootstrap(
    settings: ConsentSettings,
    *,
    store: EventStore,
    readmodels: ReadModelStore,
    private: PrivateStore | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Consent:
    return Consent(
        settings=settings,
        store=store,
        readmodels=readmodels,
        private=private or PrivateStore(settings.private_store_location(), clock=clock),
        clock=clock,
        mailer=Mailer.from_settings(settings),
    )
