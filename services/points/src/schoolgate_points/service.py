"""The points service as the runtime knows it."""

from __future__ import annotations

from fastapi import FastAPI
from schoolgate_kit.directory import conduct_projection
from schoolgate_kit.runtime import Parts, ServiceDefinition
from schoolgate_kit.settings import Settings

from schoolgate_points.bootstrap import Points
from schoolgate_points.deps import CONDUCT, conduct_gate
from schoolgate_points.entrypoints.http import create_app
from schoolgate_points.projections import PROJECTIONS


def _app(settings: Settings, parts: Parts) -> FastAPI:
    app = create_app(
        Points(settings=settings, store=parts.store, readmodels=parts.readmodels, clock=parts.clock)
    )
    app.state.identity_gate = conduct_gate
    return app


DEFINITION = ServiceDefinition(
    name="points",
    create_app=_app,
    projections=(*PROJECTIONS, conduct_projection(CONDUCT)),
)
