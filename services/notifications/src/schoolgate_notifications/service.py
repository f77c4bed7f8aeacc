"""The notifications service as the runtime knows it."""

from __future__ import annotations

from fastapi import FastAPI
from schoolgate_kit.app import Kit, create_service_app
from schoolgate_kit.runtime import Parts, ServiceDefinition
from schoolgate_kit.settings import Settings

from schoolgate_notifications.reactors import reactors


def _app(settings: Settings, parts: Parts) -> FastAPI:
    kit = Kit(
        name="notifications",
        settings=settings,
        clock=parts.clock,
        ready_checks={"read_models": parts.readmodels.ping},
    )
    return create_service_app(kit)


DEFINITION = ServiceDefinition(
    name="notifications", create_app=_app, reactors=lambda parts: reactors(parts.readmodels)
)
