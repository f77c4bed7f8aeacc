"""``python -m schoolgate_gateway.open_school``: print a one-time link that opens one more
school in this deployment (a district's). Run it where the gateway's settings are: it needs
the private store (``SCHOOLGATE_PRIVATE_STORE_URL``, or the data directory's) and the
public address (``SCHOOLGATE_PUBLIC_BASE_URL``)."""

from __future__ import annotations

import asyncio
import sys

from schoolgate_kit.clock import utc_now
from schoolgate_kit.private import open_private_store

from schoolgate_gateway.opening import LINK_LIFETIME, new_link
from schoolgate_gateway.settings import GatewaySettings


async def main() -> None:
    settings = GatewaySettings()
    store = await open_private_store(settings.private_store_location())
    try:
        link = await new_link(store, settings.public_base_url, utc_now())
    finally:
        await store.close()
    days = LINK_LIFETIME.days
    print(f"This link opens one new school, once, within {days} days. Keep it private:")
    print(link)


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
