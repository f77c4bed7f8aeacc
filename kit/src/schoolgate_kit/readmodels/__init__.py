from schoolgate_kit.readmodels.port import Doc, ReadModelStore

__all__ = ["Doc", "ReadModelStore"]
