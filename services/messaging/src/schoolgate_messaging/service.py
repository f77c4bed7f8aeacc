"""The messaging service as the runtime knows it."""

from __future__ import annotations

from fastapi import FastAPI
from schoolgate_kit.runtime import Parts, ServiceDefinition
from schoolgate_kit.settings import Settings

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


DEFINITION = ServiceDefinition(name="messaging", create_app=_app, projections=PROJECTIONS)
