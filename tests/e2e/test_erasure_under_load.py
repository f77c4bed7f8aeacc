"""Erasing a pupil while points for their class stream in: nothing fails, and every other
pupil's total is exactly what they were given."""

from __future__ import annotations

import asyncio

import httpx
from schoolgate_kit.testing.waiting import GATEWAY_CAUGHT_UP_PATH, until_projected_sync

from .conftest import signed_in  # type: ignore[import-not-found]

TEACHER = {"email": "teacher@demo.school", "password": "demo-teacher-pass"}
LEADER = {"email": "leader@demo.school", "password": "demo-leader-pass"}
ROSTER = "/api/roster/schools/demo-school"
ROUNDS = 15


async def test_erasing_a_pupil_while_their_class_is_given_points(
    embedded: str, ids: dict[str, str]
) -> None:
    teacher, leader = signed_in(embedded, TEACHER), signed_in(embedded, LEADER)
    erased, others = ids["cara"], [ids[p] for p in ("ada", "ben", "sam-k", "sam-l")]
    before = {p: teacher.get(f"/api/pupils/{p}/weekly-total").json()["total"] for p in others}
    given = dict.fromkeys(others, 0)
    statuses: list[int] = []
    last: list[httpx.Response] = []

    async def award_all(browser: httpx.AsyncClient) -> None:
        for _ in range(ROUNDS):
            for pupil in [*others, erased]:
                answer = await browser.post(
                    "/api/awards", json={"pupil_id": pupil, "school_way_id": ids["kindness"]}
                )
                statuses.append(answer.status_code)
                if answer.status_code == 201 and pupil in given:
                    given[pupil] += 1
                    last[:] = [answer]

    async def erase(browser: httpx.AsyncClient) -> None:
        await asyncio.sleep(0)  # once the awards have started
        left = await browser.post(f"{ROSTER}/pupils/{erased}/leave")
        assert left.status_code == 200, left.text
        gone = await browser.post(f"{ROSTER}/pupils/{erased}/erase")
        assert gone.status_code == 200, gone.text
        assert gone.json()["first_name"] == "removed"

    def browser(client: httpx.Client) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=embedded, cookies=client.cookies, timeout=30)

    async with browser(teacher) as awarding, browser(leader) as erasing:
        await asyncio.gather(award_all(awarding), award_all(awarding), erase(erasing))

    assert not [s for s in statuses if s >= 500], statuses
    # an award to the pupil once they have left is refused plainly; every other one lands
    assert set(statuses) <= {201, 404, 409, 422}, set(statuses)
    assert statuses.count(201) >= 2 * ROUNDS * len(others)
    until_projected_sync(teacher, last[0], path=GATEWAY_CAUGHT_UP_PATH)
    after = {p: teacher.get(f"/api/pupils/{p}/weekly-total").json()["total"] for p in others}
    assert after == {p: before[p] + given[p] for p in others}
