"""Events owned by the consent service."""

from __future__ import annotations
