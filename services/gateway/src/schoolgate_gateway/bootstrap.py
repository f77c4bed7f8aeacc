"""The one place the gateway is put together."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from schoolgate_kit.settings import Settings

from schoolgate_gateway.accounts import Accounts
from schoolgate_gateway.security import RateLimiter
from schoolgate_gateway.services import ServiceClient


@dataclass
class Gateway:
    settings: Settings
    accounts: Accounts
    points: ServiceClient
    clock: Callable[[], datetime]
    sign_in_per_account: RateLimiter
    sign_in_per_address: RateLimiter


SESSION_COOKIE = "schoolgate_session"
