"""The one place the gateway is put together."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from schoolgate_kit.crypto import Keyring
from schoolgate_kit.mail import Mailer
from schoolgate_kit.readmodels import ReadModelStore

from schoolgate_gateway.accounts import Accounts
from schoolgate_gateway.audit import Audit
from schoolgate_gateway.export import Exports
from schoolgate_gateway.live import LiveHub
from schoolgate_gateway.security import DeviceCookies, Limit, Limits, SignInThrottle
from schoolgate_gateway.services import ServiceClient
from schoolgate_gateway.settings import GatewaySettings

SESSION_COOKIE = "schoolgate_session"
BOARD_COOKIE = "schoolgate_board"
"""A class board's own session: sent only to ``/api/board``, never a person's session."""


@dataclass
class Gateway:
    settings: GatewaySettings
    accounts: Accounts
    readmodels: ReadModelStore
    services: dict[str, ServiceClient]
    clock: Callable[[], datetime]
    limits: Limits
    sign_in: SignInThrottle
    devices: DeviceCookies
    codes_per_address: Limit
    joins_per_address: Limit
    second_factor_per_account: Limit
    resets_per_email: Limit
    resets_per_address: Limit
    live: LiveHub
    audit: Audit
    """Staff reads of children's records, for leaders (``audit``)."""
    mailer: Mailer | None = None
    """The deployment's mail server; None where none is configured (the pages say so)."""
    exports: Exports | None = None
    keyring: Keyring | None = None
    """The deployment's: closing a parent's account destroys their key."""
    """Archives of people's data (``export``); None where the gateway has no store."""

    @property
    def points(self) -> ServiceClient:
        return self.services["points"]

    async def close(self) -> None:
        """Stop following the store and close the connections to the services."""
        await self.live.close()
        if self.mailer is not None:
            await self.mailer.close()
        if self.exports is not None:
            await self.exports.close()
        for service in self.services.values():
            await service.close()
