from schoolgate_kit.eventstore.port import (
    NO_STREAM,
    AppendResult,
    Batch,
    EventIdReused,
    EventStore,
    LogReader,
    SharedLog,
    WrongExpectedVersion,
)

__all__ = [
    "NO_STREAM",
    "AppendResult",
    "Batch",
    "EventIdReused",
    "EventStore",
    "LogReader",
    "SharedLog",
    "WrongExpectedVersion",
]
