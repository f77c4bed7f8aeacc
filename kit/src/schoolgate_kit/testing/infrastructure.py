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


def free_port_pair(start: int = 56720) -> int:
    """A port P with P+1 free too (RabbitMQ's AMQP and distribution ports), away from the
    25672 and 35672-35682 ports the RabbitMQ command-line tools take for themselves."""
    import socket

    def free(port: int) -> bool:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
            return True

    for port in range(start, start + 400, 2):
        if free(port) and free(port + 1):
            return port
    raise RuntimeError("no free port pair for RabbitMQ")
