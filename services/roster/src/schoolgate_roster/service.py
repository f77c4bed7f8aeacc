"""The roster service as the runtime knows it."""

from __future__ import annotations

from fastapi import FastAPI
from schoolgate_kit.runtime import Parts, ServiceDefinition
from schoolgate_kit.settings import Settings

from schoolgate_roster.bootstrap import Roster
from schoolgate_roster.entrypoints.http import create_app
from schoolgate_roster.projections import PROJECTIONS


def _app(settings: Settings, parts: Parts) -> FastAPI:
    return create_app(
        Roster(
            settings=settings,
            store=parts.store,
            readmodels=parts.readmodels,
            clock=parts.clock,
            keyring=parts.keyring,
        )
    )


DEFINITION = ServiceDefinition(name="roster", create_app=_app, projections=PROJECTIONS)
