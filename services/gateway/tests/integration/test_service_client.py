"""The gateway's client of a service serves every user at once: nothing one user's answer
carries may reach another user's request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI, Request, Response
from schoolgate_gateway.services import ServiceClient
from schoolgate_kit.identity import Identity, Role
from schoolgate_kit.keys import random_token


def _service() -> tuple[FastAPI, list[dict[str, str]]]:
    app = FastAPI()
    seen: list[dict[str, str]] = []

    @app.get("/whoami")
    async def whoami(request: Request, response: Response) -> dict[str, str]:
        seen.append(dict(request.headers))
        # a service that (wrongly, or through a library) sets a cookie on its answer
        response.set_cookie("session", request.headers["authorization"][-12:])
        return {"ok": "yes"}

    @app.get("/elsewhere")
    async def elsewhere() -> Response:
        return Response(status_code=307, headers={"location": "/whoami"})

    return app, seen


def _client(app: FastAPI) -> ServiceClient:
    return ServiceClient(
        "http://points.internal",
        httpx.ASGITransport(app=app),
        timeout=5,
        secret=random_token(),
        ttl=timedelta(minutes=5),
        clock=lambda: datetime(2026, 12, 7, 9, tzinfo=UTC),
    )


def _person(subject: str) -> Identity:
    return Identity(subject=subject, role=Role.parent, school_id="sch_a", pupil_ids=frozenset())


async def test_a_cookie_set_for_one_user_is_never_sent_with_anothers_request() -> None:
    app, seen = _service()
    client = _client(app)
    first = await client.call("GET", "/whoami", identity=_person("ann"), correlation_id="c1")
    assert first.status_code == 200
    assert "set-cookie" in first.headers
    await client.call("GET", "/whoami", identity=_person("bob"), correlation_id="c2")
    assert "cookie" not in seen[1]
    await client.close()


async def test_a_redirect_is_passed_on_not_followed() -> None:
    app, seen = _service()
    client = _client(app)
    answer = await client.call("GET", "/elsewhere", identity=_person("ann"), correlation_id="c")
    assert answer.status_code == 307
    assert answer.headers["location"] == "/whoami"
    assert seen == []
    await client.close()
