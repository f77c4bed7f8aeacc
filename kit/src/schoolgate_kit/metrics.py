"""Every metric Schoolgate exports. Labels stay bounded: route templates, never ids.

A process whose work is shared with others it started (the embedded web process and its
worker process) runs in prometheus_client's multiprocess mode: ``PROMETHEUS_MULTIPROC_DIR``
is set before any metric is made, each process writes its values there, and ``/metrics``
adds them up (``exposition``). Gauges say how: a lag is the largest among live processes.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

HTTP_REQUESTS = Counter(
    "schoolgate_http_requests_total",
    "HTTP requests answered, by route template and status.",
    ["service", "method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "schoolgate_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
APPEND_SECONDS = Histogram(
    "schoolgate_event_append_seconds",
    "Time from asking the event store to append until it committed.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)
RELAY_PUBLISHED = Counter(
    "schoolgate_relay_published_total", "Events the relay published with a broker confirm."
)
RELAY_LAG = Gauge(
    "schoolgate_relay_lag_events",
    "Events in the store the relay has not yet published.",
    multiprocess_mode="livemax",
)
RELAY_FAILURES = Counter(
    "schoolgate_relay_publish_failures_total", "Batches the broker did not confirm (retried)."
)
CONSUMER_MESSAGES = Counter(
    "schoolgate_consumer_messages_total",
    "Messages handled by consumers, by queue and outcome.",
    ["queue", "outcome"],
)
PROJECTION_EVENTS = Counter(
    "schoolgate_projection_events_total", "Events applied by a projection.", ["projection"]
)
PROJECTION_LAG = Gauge(
    "schoolgate_projection_lag_events",
    "Events in the store a projection has not yet applied.",
    ["projection"],
    multiprocess_mode="livemax",
)


def exposition() -> bytes:
    """What ``/metrics`` answers: this process's metrics, or in multiprocess mode every
    process's, added up."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return generate_latest()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def process_gone(pid: int) -> None:
    """In multiprocess mode, forget the gauges of a process that has ended; what it counted
    still counts."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
