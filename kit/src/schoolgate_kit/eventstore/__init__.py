from schoolgate_kit.eventstore.port import (
    NO_STREAM,
    AppendResult,
    Batch,
    EventIdReused,
    EventStore,
    WrongExpectedVersion,
)

__all__ = [
    "NO_STREAM",
    "AppendResult",
    "Batch",
    "EventIdReused",
    "EventStore",
    "WrongExpectedVersion",
]
