"""Events owned by the roster service."""

from __future__ import annotations
