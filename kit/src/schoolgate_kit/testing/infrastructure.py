"""Where the test suite finds real infrastructure, and what it says when it is missing."""

from __future__ import annotations

import os

import pytest


def rabbitmq_url() -> str:
    """The private node `make test` starts; outside `make test` the RabbitMQ tests skip."""
    url = os.environ.get("SCHOOLGATE_TEST_AMQP_URL", "")
    if not url:
        if os.environ.get("SCHOOLGATE_REQUIRE_RABBITMQ"):
            pytest.fail("SCHOOLGATE_TEST_AMQP_URL is not set but make test requires RabbitMQ")
        pytest.skip("SCHOOLGATE_TEST_AMQP_URL is not set: run the suite through `make test`")
    return url
