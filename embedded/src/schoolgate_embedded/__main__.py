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

from schoolgate_kit.keys import with_data_dir_secrets
from schoolgate_kit.logging import configure_logging
from schoolgate_kit.server import serve

from schoolgate_embedded.app import EmbeddedSettings, create_app

# the secrets the environment did not give, from the data directory (made on first start)
settings = with_data_dir_secrets(EmbeddedSettings())
configure_logging(development=settings.is_development, level=settings.log_level)
serve(create_app(settings), settings, host=settings.host, port=settings.port)
