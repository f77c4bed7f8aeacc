"""Build the gateway; run it alone in the cluster (``serve``, and ``work`` for its projections)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime, timedelta

import httpx
from fastapi import FastAPI
from schoolgate_kit.app import outer_app
from schoolgate_kit.clock import utc_now
from schoolgate_kit.crypto import Keyring
from schoolgate_kit.eventstore import EventStore
from schoolgate_kit.mail import Mailer
from schoolgate_kit.media import MediaStore
from schoolgate_kit.readmodels import ReadModelStore
from schoolgate_kit.runtime import Parts, ServiceDefinition, service_main
from schoolgate_kit.settings import Settings

from schoolgate_gateway.accounts import Accounts
from schoolgate_gateway.audit import Audit
from schoolgate_gateway.bootstrap import Gateway
from schoolgate_gateway.entrypoints.http import create_app
from schoolgate_gateway.export import Exports
from schoolgate_gateway.live import LiveHub
from schoolgate_gateway.projections import PROJECTIONS
from schoolgate_gateway.security import DeviceCookies, Limit, Limits, SignInThrottle
from schoolgate_gateway.services import ServiceAddress, ServiceClient
from schoolgate_gateway.settings import GatewaySettings


def build_gateway(
    settings: GatewaySettings,
    accounts: Accounts,
    readmodels: ReadModelStore,
    *,
    services: Mapping[str, ServiceAddress],
    store: EventStore | None = None,
    media: MediaStore | None = None,
    keyring: Keyring | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Gateway:
    """``store`` is followed for live updates; without it the live streams answer 503.
    With ``store`` and ``media`` people can export their data (``export``)."""

    def client(address: ServiceAddress) -> ServiceClient:
        return ServiceClient(
            address.base_url,
            address.transport,
            timeout=address.timeout,
            secret=settings.identity_secret.get_secret_value(),
            ttl=timedelta(seconds=settings.identity_ttl_seconds),
            clock=clock,
        )

    window = timedelta(seconds=settings.sign_in_window_seconds)
    # the counters live beside the accounts: one store, shared by every replica
    limits = Limits(accounts.store, clock)
    devices = DeviceCookies(accounts.store, clock)
    return Gateway(
        settings=settings,
        accounts=accounts,
        readmodels=readmodels,
        services={name: client(address) for name, address in services.items()},
        clock=clock,
        limits=limits,
        sign_in=SignInThrottle(
            limits,
            devices,
            per_account=Limit("sign_in_account", settings.sign_in_attempts_per_account, window),
            per_device=Limit("sign_in_device", settings.sign_in_attempts_per_device, window),
            per_address=Limit("sign_in_address", settings.sign_in_attempts_per_address, window),
        ),
        devices=devices,
        codes_per_address=Limit("codes_address", settings.code_attempts_per_address, window),
        joins_per_address=Limit("joins_address", settings.sign_in_attempts_per_address, window),
        second_factor_per_account=Limit(
            "second_factor_account", settings.second_factor_attempts, window
        ),
        resets_per_email=Limit("reset_email", settings.password_resets_per_email, window),
        resets_per_address=Limit("reset_address", settings.password_resets_per_address, window),
        mailer=Mailer.from_settings(settings),
        live=LiveHub(
            store,
            keepalive_seconds=settings.live_keepalive_seconds,
            queue_limit=settings.live_queue_limit,
        ),
        keyring=keyring,
        audit=Audit(readmodels, clock),
        exports=(
            None
            if store is None or media is None
            else Exports(store, media, accounts.store, clock=clock)
        ),
    )


def _app(settings: Settings, parts: Parts) -> FastAPI:
    """The gateway as its own process: services reached over the network."""
    gateway_settings = GatewaySettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        accounts = await Accounts.open(gateway_settings.private_store_location(), clock=parts.clock)
        urls = {
            "points": gateway_settings.points_url,
            "roster": gateway_settings.roster_url,
            "consent": gateway_settings.consent_url,
            "stories": gateway_settings.stories_url,
            "messaging": gateway_settings.messaging_url,
            "notifications": gateway_settings.notifications_url,
        }
        gateway = build_gateway(
            gateway_settings,
            accounts,
            parts.readmodels,
            services={
                n: ServiceAddress(u, httpx.AsyncHTTPTransport(), timeout=30)
                for n, u in urls.items()
            },
            store=parts.store,
            media=parts.media,
            keyring=parts.keyring,
            clock=parts.clock,
        )
        app.mount("/", create_app(gateway))
        try:
            yield
        finally:
            await gateway.close()
            await accounts.close()

    return outer_app(settings, lifespan)


DEFINITION = ServiceDefinition(name="gateway", create_app=_app, projections=PROJECTIONS)


def main() -> None:
    service_main(DEFINITION)
