from schoolgate_kit.readmodels.port import Doc, OneOf, ReadModelStore

__all__ = ["Doc", "OneOf", "ReadModelStore"]
