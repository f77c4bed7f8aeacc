from schoolgate_kit.bus.port import (
    DEAD_LETTER_EXCHANGE,
    EXCHANGE,
    Bus,
    DeadLetter,
    Message,
    MessageHandler,
    PublishFailed,
    Subscription,
)

__all__ = [
    "DEAD_LETTER_EXCHANGE",
    "EXCHANGE",
    "Bus",
    "DeadLetter",
    "Message",
    "MessageHandler",
    "PublishFailed",
    "Subscription",
]
