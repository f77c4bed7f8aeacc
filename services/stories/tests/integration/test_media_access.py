"""Who gets a media's bytes: exactly those who may see what holds it, and the people who
look after it. Everyone else is told it is not there (404), so ids cannot be probed. A
parent who has not accepted the school's code of conduct gets nothing at all."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
from schoolgate_contracts.consent import CodeOfConductAccepted, CodeOfConductPublished
from schoolgate_kit.identity import Role

from .conftest import School, StoriesService, auth, new_school, photo, post, upload


@dataclass(frozen=True)
class World:
    school: School
    on_post: str
    """A photo on a post to oak, uploaded by oak's teacher."""
    in_portfolio: str
    """A drawing ada uploaded for her portfolio, approved."""
    waiting: str
    """A drawing ada uploaded, submitted but not approved."""
    loose: str
    """Uploaded by oak's teaching assistant, on nothing yet."""


@pytest.fixture(scope="module")
def world(stories: StoriesService) -> World:
    return asyncio.run(_build(stories))


async def _build(stories: StoriesService) -> World:
    async with httpx.AsyncClient(base_url=stories.url, timeout=20) as client:
        school = await new_school(stories)
        on_post = await upload(client, school, school.teacher)
        await post(client, school, school.teacher, attachments=[photo(on_post, school.p("ada"))])
        drawings = []
        for _ in range(2):
            media = await upload(client, school, school.pupil("ada"))
            item = await client.post(
                school.path("/portfolio"),
                headers=school.pupil("ada"),
                json={"text": "My drawing", "attachments": [photo(media)]},
            )
            assert item.status_code == 201, item.text
            drawings.append((media, item.json()["item_id"]))
        approved = await client.post(
            school.path(f"/portfolio/{drawings[0][1]}/approve"), headers=school.teacher
        )
        assert approved.status_code == 200, approved.text
        loose = await upload(client, school, school.assistant)
        await stories.caught_up()
        return World(school, on_post, drawings[0][0], drawings[1][0], loose)


Caller = Callable[[School], dict[str, str]]
CALLERS: dict[str, Caller] = {
    "parent of ada (oak)": lambda s: s.parent("ada"),
    "parent of cal (ash)": lambda s: s.parent("cal"),
    "parent of dot (elm)": lambda s: s.parent("dot"),
    "parent, other school": lambda s: s.other_parent,
    "leader, other school": lambda s: s.other_leader,
    "teacher, other school": lambda s: s.other_teacher,
    "pupil ada": lambda s: s.pupil("ada"),
    # the gateway names a pupil among their own pupil ids: that must not make them family
    "pupil ada, as the gateway signs her": lambda s: auth(
        Role.pupil, s.p("ada"), s.id, pupils=(s.p("ada"),)
    ),
    "pupil ben (oak)": lambda s: s.pupil("ben"),
    "teacher of oak (uploader)": lambda s: s.teacher,
    "assistant of oak": lambda s: s.assistant,
    "teacher of ash": lambda s: s.ash_teacher,
    "office": lambda s: s.office,
    "leader": lambda s: s.leader,
}
STAFF = {"teacher of oak (uploader)", "assistant of oak", "teacher of ash", "office", "leader"}
ALLOWED = {
    "on_post": STAFF | {"parent of ada (oak)"},
    "in_portfolio": STAFF
    | {"parent of ada (oak)", "pupil ada", "pupil ada, as the gateway signs her"},
    "waiting": STAFF | {"pupil ada", "pupil ada, as the gateway signs her"},
    "loose": STAFF,
}


@pytest.mark.parametrize("media", sorted(ALLOWED))
@pytest.mark.parametrize("caller", sorted(CALLERS))
async def test_media_goes_only_to_those_allowed_to_see_it(
    world: World, client: httpx.AsyncClient, media: str, caller: str
) -> None:
    school = world.school
    media_id = getattr(world, media)
    headers = CALLERS[caller](school)
    for size in ("full", "thumb"):
        answer = await client.get(school.path(f"/media/{media_id}?size={size}"), headers=headers)
        if caller in ALLOWED[media]:
            assert answer.status_code == 200, f"{caller} {media} {size}: {answer.text}"
            assert answer.headers["content-type"] == "image/jpeg"
        else:
            assert answer.status_code == 404, f"{caller} {media} {size}: {answer.status_code}"
            assert answer.json()["type"].endswith("/media-not-found")


async def test_the_other_school_cannot_reach_media_through_its_own_path(
    world: World, client: httpx.AsyncClient
) -> None:
    school = world.school
    answer = await client.get(
        f"/schools/{school.other}/media/{world.on_post}", headers=school.other_leader
    )
    assert answer.status_code == 404


async def test_without_a_token_nothing_is_answered(world: World, client: httpx.AsyncClient) -> None:
    answer = await client.get(world.school.path(f"/media/{world.on_post}"))
    assert answer.status_code == 401


async def test_a_parent_gets_nothing_until_they_accept_the_code_of_conduct(
    stories: StoriesService, client: httpx.AsyncClient
) -> None:
    school = await new_school(stories)  # its own: the code binds every parent of the school
    media_id = await upload(client, school, school.teacher)
    await post(client, school, school.teacher, attachments=[photo(media_id, school.p("ada"))])
    await stories.caught_up()
    parent = school.parent("ada")
    ask = {
        "photo": lambda: client.get(school.path(f"/media/{media_id}"), headers=parent),
        "posts": lambda: client.get(
            school.path("/posts"), headers=parent, params={"pupil_id": school.p("ada")}
        ),
    }
    for name, request in ask.items():
        answer = await request()
        assert answer.status_code == 200, f"{name}: {answer.text}"

    await stories.append(
        f"consentpolicy-{school.id}",
        school.id,
        CodeOfConductPublished(version=1, text="Be kind.", published_by="leader"),
    )

    async def refused() -> bool:
        answer = await ask["photo"]()
        return answer.status_code == 403

    await stories.caught_up()
    assert await refused(), "the code of conduct reaches stories"
    for name, request in ask.items():
        answer = await request()
        assert answer.status_code == 403, f"{name}: {answer.text}"
        assert answer.json()["type"].endswith("/code-of-conduct-not-accepted")
    staff = await client.get(school.path(f"/media/{media_id}"), headers=school.teacher)
    assert staff.status_code == 200, staff.text

    await stories.append(
        "parent-parent-of-ada",
        school.id,
        CodeOfConductAccepted(parent_id="parent-of-ada", school_id=school.id, version=1),
    )

    async def allowed() -> bool:
        answer = await ask["photo"]()
        return answer.status_code == 200

    await stories.caught_up()
    assert await allowed(), "the acceptance reaches stories"
