"""Shared test helpers: abstract contract suites every adapter of a port must pass."""
