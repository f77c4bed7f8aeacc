"""Clients for the gateway end-to-end tests, closed after each test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

OPEN: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def close_clients() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().close()


def client_for(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=20)
    OPEN.append(client)
    return client


def signed_in(base: str, who: dict[str, str]) -> httpx.Client:
    client = client_for(base)
    answer = client.post("/api/session", json=who)
    assert answer.status_code == 200, answer.text
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    return client
