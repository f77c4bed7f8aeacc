"""The messaging service as the runtime knows it."""

from __future__ import annotations

from fastapi import FastAPI
from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.roster import PupilErased
from schoolgate_contracts.topology import MESSAGING_ERASURE
from schoolgate_kit.reactors import Reactor
from schoolgate_kit.runtime import Parts, ServiceDefinition
from schoolgate_kit.settings import Settings

from schoolgate_messaging import handlers
from schoolgate_messaging.bootstrap import Messaging
from schoolgate_messaging.deps import conduct_gate
from schoolgate_messaging.entrypoints.http import create_app
from schoolgate_messaging.projections import PROJECTIONS
from schoolgate_messaging.settings import MessagingSettings


def _app(settings: Settings, parts: Parts) -> FastAPI:
    app = create_app(
        Messaging(
            settings=MessagingSettings.from_settings(settings),
            store=parts.store,
            readmodels=parts.readmodels,
            media=parts.media,
            clock=parts.clock,
            keyring=parts.keyring,
        )
    )
    app.state.identity_gate = conduct_gate
    return app


def _reactors(parts: Parts) -> list[Reactor]:
    messaging = Messaging(
        settings=MessagingSettings(),
        store=parts.store,
        readmodels=parts.readmodels,
        media=parts.media,
        clock=parts.clock,
        keyring=parts.keyring,
    )

    async def pupil_erased(recorded: RecordedEvent) -> None:
        event = recorded.event
        assert isinstance(event, PupilErased)
        await handlers.erase_conversations_about(
            event.pupil_id, recorded.metadata.school_id, messaging=messaging
        )

    return [Reactor(queue=MESSAGING_ERASURE, handle=pupil_erased)]


DEFINITION = ServiceDefinition(
    name="messaging", create_app=_app, projections=PROJECTIONS, reactors=_reactors
)
