"""``python -m schoolgate_embedded``: the whole of Schoolgate at http://localhost:8000."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

# Both processes' metrics on one /metrics page: prometheus_client reads this before any metric
# is made, and the worker process inherits it (schoolgate_kit.metrics).
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="schoolgate-metrics-")
    atexit.register(shutil.rmtree, os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)

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
