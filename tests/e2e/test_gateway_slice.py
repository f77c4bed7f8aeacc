"""The slice through the gateway, as `make run` serves it: one embedded process, real HTTP."""

from __future__ import annotations

from schoolgate_kit.testing.waiting import GATEWAY_CAUGHT_UP_PATH, until_projected_sync

from .conftest import client_for, signed_in  # type: ignore[import-not-found]

TEACHER = {"email": "teacher@demo.school", "password": "demo-teacher-pass"}
PARENT = {"email": "parent@demo.school", "password": "demo-parent-pass"}


async def test_a_teachers_award_shows_in_the_parents_weekly_total(
    embedded: str, ids: dict[str, str]
) -> None:
    teacher, parent = signed_in(embedded, TEACHER), signed_in(embedded, PARENT)
    ada, kindness = ids["ada"], ids["kindness"]
    before = parent.get(f"/api/pupils/{ada}/weekly-total").json()["total"]
    answer = teacher.post("/api/awards", json={"pupil_id": ada, "school_way_id": kindness})
    assert answer.status_code == 201, answer.text
    assert answer.headers["x-correlation-id"]
    # the gateway's own award route passes on the position points appended at
    until_projected_sync(parent, answer, path=GATEWAY_CAUGHT_UP_PATH)
    total = parent.get(f"/api/pupils/{ada}/weekly-total").json()
    assert total["total"] == before + 1, "the parent sees the new point"
    assert total["by_way"][kindness] >= 1


def test_a_parent_sees_only_their_own_child_and_cannot_award(
    embedded: str, ids: dict[str, str]
) -> None:
    parent = signed_in(embedded, PARENT)
    assert [c["pupil_id"] for c in parent.get("/api/me").json()["children"]] == [ids["ada"]]
    refused = parent.get(f"/api/pupils/{ids['ben']}/weekly-total")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    award = parent.post(
        "/api/awards", json={"pupil_id": ids["ada"], "school_way_id": ids["kindness"]}
    )
    assert award.status_code == 403


def test_signed_out_requests_are_refused(embedded: str, ids: dict[str, str]) -> None:
    anonymous = client_for(embedded)
    assert anonymous.get("/api/me").status_code == 401
    award = {"pupil_id": ids["ada"], "school_way_id": ids["kindness"]}
    assert anonymous.post("/api/awards", json=award).status_code == 401


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(embedded: str) -> None:
    client = client_for(embedded)
    wrong = client.post("/api/session", json={**TEACHER, "password": "nope"})
    unknown = client.post("/api/session", json={"email": "nobody@x.y", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_bad_input_through_the_gateway_is_a_problem(embedded: str) -> None:
    teacher = signed_in(embedded, TEACHER)
    answer = teacher.post("/api/awards", json={"pupil_id": "../ada", "school_way_id": ""})
    assert answer.status_code == 422
    assert answer.json()["type"].endswith("/validation-error")


def test_a_cross_site_post_is_refused(embedded: str, ids: dict[str, str]) -> None:
    teacher = signed_in(embedded, TEACHER)
    award = {"pupil_id": ids["ada"], "school_way_id": ids["kindness"]}
    forged = teacher.post("/api/awards", json=award, headers={"sec-fetch-site": "cross-site"})
    assert forged.status_code == 403
    old_browser = teacher.post(
        "/api/awards", json=award, headers={"origin": "https://evil.example"}
    )
    assert old_browser.status_code == 403


def test_operations_endpoints(embedded: str) -> None:
    client = client_for(embedded)
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    metrics = client.get("/metrics").text
    assert "schoolgate_http_requests_total" in metrics
    assert "schoolgate_event_append_seconds" in metrics
    assert client.get("/").status_code == 200
