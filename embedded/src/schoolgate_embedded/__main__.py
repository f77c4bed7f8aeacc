"""``python -m schoolgate_embedded``: the whole of Schoolgate at http://localhost:8000."""

from __future__ import annotations

import uvicorn
from schoolgate_gateway.settings import GatewaySettings
from schoolgate_kit.logging import configure_logging

from schoolgate_embedded.app import create_app

settings = GatewaySettings()
configure_logging(development=settings.is_development, level=settings.log_level)
uvicorn.run(
    create_app(settings),
    host=settings.host,
    port=settings.port,
    log_config=None,
    access_log=False,
)
