"""The notifications service as the runtime knows it."""

from __future__ import annotations

from fastapi import FastAPI
from schoolgate_kit.runtime import Parts, ServiceDefinition
from schoolgate_kit.settings import Settings

from schoolgate_notifications.bootstrap import Notifications
from schoolgate_notifications.entrypoints.http import create_app
from schoolgate_notifications.projections import PROJECTIONS
from schoolgate_notifications.reactors import reactors


def _app(settings: Settings, parts: Parts) -> FastAPI:
    return create_app(
        Notifications(
            settings=settings, store=parts.store, readmodels=parts.readmodels, clock=parts.clock
        )
    )


DEFINITION = ServiceDefinition(
    name="notifications",
    create_app=_app,
    projections=PROJECTIONS,
    reactors=lambda parts: reactors(parts.readmodels, store=parts.store),
)
