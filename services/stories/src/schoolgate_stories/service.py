"""The stories service as the runtime knows it."""

from __future__ import annotations

from fastapi import FastAPI
from schoolgate_kit.directory import conduct_projection
from schoolgate_kit.runtime import Parts, ServiceDefinition
from schoolgate_kit.settings import Settings

from schoolgate_stories.bootstrap import Stories
from schoolgate_stories.deps import CONDUCT, conduct_gate
from schoolgate_stories.entrypoints.http import create_app
from schoolgate_stories.projections import PROJECTIONS
from schoolgate_stories.settings import StoriesSettings


def _app(settings: Settings, parts: Parts) -> FastAPI:
    app = create_app(
        Stories(
            settings=StoriesSettings.from_settings(settings),
            store=parts.store,
            readmodels=parts.readmodels,
            media=parts.media,
            clock=parts.clock,
            keyring=parts.keyring,
        )
    )
    app.state.identity_gate = conduct_gate
    return app


DEFINITION = ServiceDefinition(
    name="stories",
    create_app=_app,
    projections=(*PROJECTIONS, conduct_projection(CONDUCT)),
)
