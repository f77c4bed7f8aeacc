"""Every endpoint against every kind of caller: role x own/other pupil, class and school.

One school with classes oak (ada) and ash (cal) and a post to oak by oak's teacher; a
second school whose leader, teacher (of a class also called oak) and parent (whose token
even names ada) must get nowhere. A refusal is problem+json and writes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from .conftest import School, StoriesService, new_school, png, post, upload


@dataclass(frozen=True)
class World:
    school: School
    post_id: str
    item_id: str
    task_id: str


@pytest.fixture(scope="module")
def world(stories: StoriesService) -> World:
    return asyncio.run(_build(stories))


async def _build(stories: StoriesService) -> World:
    async with httpx.AsyncClient(base_url=stories.url, timeout=20) as client:
        school = await new_school(stories)
        published = await post(client, school, school.teacher, text="Matrix")
        item = await client.post(
            school.path("/portfolio"), headers=school.pupil("ada"), json={"text": "My work"}
        )
        assert item.status_code == 201, item.text
        task = await client.post(
            school.path("/home-learning"),
            headers=school.teacher,
            json={"class_id": "oak", "title": "Read a book"},
        )
        assert task.status_code == 201, task.text
        await stories.caught_up()
        return World(school, published["post_id"], item.json()["item_id"], task.json()["task_id"])


CALLERS: dict[str, Callable[[School], dict[str, str]]] = {
    "teacher oak": lambda s: s.teacher,
    "assistant oak": lambda s: s.assistant,
    "teacher ash": lambda s: s.ash_teacher,
    "leader": lambda s: s.leader,
    "office": lambda s: s.office,
    "parent of ada": lambda s: s.parent("ada"),
    "parent of cal": lambda s: s.parent("cal"),
    "pupil ada": lambda s: s.pupil("ada"),
    "pupil cal": lambda s: s.pupil("cal"),
    "leader elsewhere": lambda s: s.other_leader,
    "teacher elsewhere": lambda s: s.other_teacher,
    "parent elsewhere": lambda s: s.other_parent,
}
STAFF = frozenset({"teacher oak", "assistant oak", "teacher ash", "leader", "office"})
OAK_STAFF = frozenset({"teacher oak", "assistant oak", "leader"})
EVERYONE_HERE = STAFF | {"parent of ada", "parent of cal", "pupil ada", "pupil cal"}


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    allowed: frozenset[str]
    ok: int = 200
    json: dict[str, Any] | None = None
    content: bytes | None = None
    hidden: frozenset[str] = field(default_factory=frozenset)
    """Callers of this school told 404, not 403: what they ask for is not theirs to know of."""


ENDPOINTS = [
    Endpoint("class posts", "GET", "/posts?class_id=oak", STAFF),
    Endpoint("child's posts", "GET", "/posts?pupil_id={ada}", frozenset({"parent of ada"})),
    Endpoint(
        "publish to oak",
        "POST",
        "/posts",
        OAK_STAFF,
        ok=201,
        json={"audience": {"kind": "classes", "class_ids": ["oak"]}, "text": "Hello"},
    ),
    Endpoint(
        "read post",
        "GET",
        "/posts/{post}",
        STAFF | {"parent of ada"},
        hidden=frozenset({"parent of cal", "pupil ada", "pupil cal"}),
    ),
    Endpoint(
        "edit post",
        "PUT",
        "/posts/{post}",
        frozenset({"teacher oak", "leader"}),
        json={"text": "Matrix", "attachments": []},
    ),
    Endpoint(
        "like",
        "POST",
        "/posts/{post}/like",
        frozenset({"parent of ada"}),
        hidden=frozenset({"parent of cal", "pupil ada", "pupil cal"}),
    ),
    Endpoint("who liked", "GET", "/posts/{post}/likes", STAFF),
    Endpoint("read settings", "GET", "/settings", EVERYONE_HERE),
    Endpoint(
        "change settings",
        "PUT",
        "/settings",
        frozenset({"leader"}),
        json={"comments_enabled": False},
    ),
    Endpoint(
        "portfolio of ada",
        "GET",
        "/pupils/{ada}/portfolio",
        OAK_STAFF | {"office", "pupil ada", "parent of ada"},
    ),
    Endpoint("oak's queue", "GET", "/classes/oak/portfolio/queue", OAK_STAFF),
    Endpoint(
        "submit work",
        "POST",
        "/portfolio",
        frozenset({"pupil ada", "pupil cal"}),
        ok=201,
        json={"text": "More work"},
    ),
    Endpoint("approve ada's work", "POST", "/portfolio/{item}/approve", OAK_STAFF),
    Endpoint(
        "set oak's home learning",
        "POST",
        "/home-learning",
        frozenset({"teacher oak", "leader"}),
        ok=201,
        json={"class_id": "oak", "title": "Times tables"},
    ),
    Endpoint(
        "oak's home learning",
        "GET",
        "/classes/oak/home-learning",
        OAK_STAFF | {"office", "pupil ada", "parent of ada"},
    ),
    Endpoint(
        "ada's home learning",
        "GET",
        "/pupils/{ada}/home-learning",
        OAK_STAFF | {"office", "pupil ada", "parent of ada"},
    ),
    Endpoint(
        "who handed in",
        "GET",
        "/home-learning/{task}/submissions",
        OAK_STAFF | {"office"},
    ),
    Endpoint(
        "upload",
        "POST",
        "/media",
        STAFF | {"pupil ada", "pupil cal"},
        ok=201,
        content=png(),
    ),
]


def _path(endpoint: Endpoint, world: World) -> str:
    return world.school.path(
        endpoint.path.format(
            ada=world.school.p("ada"),
            post=world.post_id,
            item=world.item_id,
            task=world.task_id,
        )
    )


@pytest.mark.parametrize("caller", sorted(CALLERS))
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
async def test_every_caller_gets_exactly_what_the_rules_allow(
    stories: StoriesService,
    client: httpx.AsyncClient,
    world: World,
    endpoint: Endpoint,
    caller: str,
) -> None:
    headers = CALLERS[caller](world.school)
    before = await stories.head()
    answer = await client.request(
        endpoint.method,
        _path(endpoint, world),
        headers=headers,
        json=endpoint.json,
        content=endpoint.content,
    )
    if caller in endpoint.allowed:
        assert answer.status_code == endpoint.ok, f"{caller}: {answer.text}"
        return
    expected = 404 if caller in endpoint.hidden else 403
    assert answer.status_code == expected, f"{caller}: {answer.status_code} {answer.text}"
    assert answer.headers["content-type"] == "application/problem+json"
    assert await stories.head() == before, f"{caller} was refused but something was written"


async def test_a_forged_or_missing_token_is_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    path = world.school.path("/settings")
    assert (await client.get(path)).status_code == 401
    forged = {"authorization": "Bearer " + "e30.e30.c2lnbmF0dXJl"}
    assert (await client.get(path, headers=forged)).status_code == 401


async def test_a_pupil_gets_back_what_they_uploaded(
    client: httpx.AsyncClient, world: World
) -> None:
    school = world.school
    media = await upload(client, school, school.pupil("ada"))
    answer = await client.get(school.path(f"/media/{media}"), headers=school.pupil("ada"))
    assert answer.status_code == 200


OWN_PATH_CLASS_READS = [
    "/posts?class_id=oak",
    "/classes/oak/portfolio/queue",
    "/classes/oak/home-learning",
]


@pytest.mark.parametrize("path", OWN_PATH_CLASS_READS)
@pytest.mark.parametrize("caller", ["leader elsewhere", "teacher elsewhere"])
async def test_staff_of_a_school_whose_class_ids_collide_see_only_their_own_class(
    client: httpx.AsyncClient, world: World, path: str, caller: str
) -> None:
    """The other school's class is also called oak. Its staff, asking under their own
    school's path, get their own oak: none of this school's posts, work or tasks."""
    headers = CALLERS[caller](world.school)
    answer = await client.get(f"/schools/{world.school.other}{path}", headers=headers)
    assert answer.status_code in (200, 404), answer.text
    text = answer.text
    assert world.post_id not in text
    assert world.item_id not in text
    assert world.task_id not in text
    assert "Matrix" not in text and "Read a book" not in text
