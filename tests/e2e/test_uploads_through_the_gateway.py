"""The gateway holds every body to the small server-wide limit, except the services' upload
routes, which take files up to the upload limit: a photo of a few MB still reaches stories."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from .conftest import signed_in  # type: ignore[import-not-found]

TEACHER = {"email": "teacher@demo.school", "password": "demo-teacher-pass"}
LEADER = {"email": "leader@demo.school", "password": "demo-leader-pass"}
THREE_MB = b"\0" * (3 * 1024 * 1024)


def test_an_upload_of_a_few_megabytes_reaches_the_service(embedded: str) -> None:
    teacher = signed_in(embedded, TEACHER)
    answer = teacher.post(
        "/api/stories/schools/demo-school/media",
        content=THREE_MB,
        headers={"content-type": "application/octet-stream"},
    )
    # stories itself looked at it (not a picture), not the gateway's body limit
    assert answer.status_code == 422, answer.text
    assert not answer.json()["type"].endswith("/body-too-large"), answer.text


def test_any_other_request_of_a_few_megabytes_is_refused_before_it_is_read(
    embedded: str,
) -> None:
    leader = signed_in(embedded, LEADER)
    answer = leader.post(
        "/api/roster/schools/demo-school/school-ways",
        content=THREE_MB,
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 413, answer.text


def test_an_upload_past_the_limit_is_refused_while_it_streams_through(embedded: str) -> None:
    """The gateway passes an upload on as it arrives rather than holding it whole; a body
    with no declared length that runs past the limit is still refused with a problem, by
    the service's own check or the guard's, never a server error."""
    teacher = signed_in(embedded, TEACHER)
    sent = [0]

    def body() -> Iterator[bytes]:
        chunk = b"\0" * (1024 * 1024)
        for _ in range(60):  # 60 MiB, past the 50 MiB upload limit
            sent[0] += len(chunk)
            yield chunk

    try:
        answer = teacher.post(
            "/api/stories/schools/demo-school/media",
            content=body(),
            headers={"content-type": "application/octet-stream"},
        )
    except httpx.TransportError:
        print("TRANSPORT", sent[0])
        return  # refused and closed while the rest was still being sent
    assert answer.status_code == 413, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    print("ANSWER", sent[0], answer.json())
