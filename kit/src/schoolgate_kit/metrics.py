"""Every metric Schoolgate exports. Labels stay bounded: route templates, never ids."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
    "schoolgate_relay_lag_events", "Events in the store the relay has not yet published."
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
)
