"""The gateway holds every body to the small server-wide limit, except the services' upload
routes, which take files up to the upload limit: a photo of a few MB still reaches stories."""

from __future__ import annotations

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
