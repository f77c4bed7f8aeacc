"""The consent service as the runtime knows it."""

from __future__ import annotations

from fastapi import FastAPI
from schoolgate_kit.runtime import Parts, ServiceDefinition
from schoolgate_kit.settings import Settings

from schoolgate_consent.bootstrap import bootstrap
from schoolgate_consent.entrypoints.http import create_app
from schoolgate_consent.projections import PROJECTIONS
from schoolgate_consent.settings import ConsentSettings


def _app(settings: Settings, parts: Parts) -> FastAPI:
    return create_app(
        bootstrap(
            ConsentSettings.from_settings(settings),
            store=parts.store,
            readmodels=parts.readmodels,
            clock=parts.clock,
        )
    )


DEFINITION = ServiceDefinition(name="consent", create_app=_app, projections=PROJECTIONS)
