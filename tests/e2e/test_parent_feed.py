"""Issue 5 through the gateway, as `make run` serves it: a parent's feed has their child's
points and the posts of their child's class, year group and school (never another class's),
newest first and in pages, with media only where consent allows; and it is for parents only.
Posts, likes and consent go through the services' own APIs."""

from __future__ import annotations

import io
from typing import Any

import httpx
from PIL import Image
from schoolgate_kit.testing.waiting import (
    GATEWAY_CAUGHT_UP_PATH,
    until_projected,
    until_projected_sync,
)

from .conftest import client_for, signed_in  # type: ignore[import-not-found]

TEACHER = {"email": "teacher@demo.school", "password": "demo-teacher-pass"}
LEADER = {"email": "leader@demo.school", "password": "demo-leader-pass"}
OFFICE = {"email": "office@demo.school", "password": "demo-office-pass"}
PARENT = {"email": "parent@demo.school", "password": "demo-parent-pass"}
PARENT2 = {"email": "parent2@demo.school", "password": "demo-parent2-pass"}
SCHOOL = "demo-school"
STORIES = f"/api/stories/schools/{SCHOOL}"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (40, 120, 60)).save(out, format="PNG")
    return out.getvalue()


def _browser(client: httpx.Client) -> httpx.AsyncClient:
    """The same signed-in browser, for use inside the test's event loop."""
    return httpx.AsyncClient(base_url=str(client.base_url), cookies=client.cookies, timeout=20)


async def upload(author: httpx.Client) -> str:
    async with _browser(author) as browser:
        answer = await browser.post(
            f"{STORIES}/media", content=_png(), headers={"content-type": "application/octet-stream"}
        )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["media_id"])


async def publish(author: httpx.Client, audience: dict[str, Any], text: str, **more: Any) -> str:
    async with _browser(author) as browser:
        answer = await browser.post(
            f"{STORIES}/posts", json={"audience": audience, "text": text, **more}
        )
        assert answer.status_code == 201, answer.text
        # a family may act on the post next (a like): the post must be known by then
        await until_projected(browser, answer, path=GATEWAY_CAUGHT_UP_PATH)
    return str(answer.json()["post_id"])


def photo(media_id: str, *tagged: str) -> dict[str, Any]:
    return {"media_id": media_id, "kind": "image", "alt_text": media_id, "tagged_pupil_ids": tagged}


def feed(client: httpx.Client, **params: Any) -> dict[str, Any]:
    answer = client.get("/api/feed", params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def every_item(client: httpx.Client, limit: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": limit}
    while True:
        page = feed(client, **params)
        assert len(page["items"]) <= limit
        items += page["items"]
        if page["next"] is None:
            return items
        params["before"] = page["next"]


async def test_a_parent_sees_their_childs_points_and_posts_newest_first(
    embedded: str, ids: dict[str, str]
) -> None:
    teacher, leader, office = (signed_in(embedded, who) for who in (TEACHER, LEADER, OFFICE))
    parent, other_parent = signed_in(embedded, PARENT), signed_in(embedded, PARENT2)
    ada, ben = ids["ada"], ids["ben"]

    award = teacher.post("/api/awards", json={"pupil_id": ada, "school_way_id": ids["kindness"]})
    assert award.status_code == 201, award.text
    ada_photo, ben_photo = await upload(teacher), await upload(teacher)
    oak = await publish(
        teacher,
        {"kind": "classes", "class_ids": [ids["oak"]]},
        "Oak went to the woods",
        attachments=[photo(ada_photo, ada), photo(ben_photo, ben)],
    )
    ash = await publish(leader, {"kind": "classes", "class_ids": [ids["ash"]]}, "Only for Ash")
    year3 = await publish(teacher, {"kind": "year_group", "year_group_id": ids["y3"]}, "Swimming")
    everyone = await publish(leader, {"kind": "school"}, "Sports day on Friday")
    async with _browser(parent) as browser:
        liked = await browser.post(f"{STORIES}/posts/{oak}/like")
    assert liked.status_code == 200, liked.text

    def has_everything() -> bool:
        items = feed(parent, limit=50)["items"]
        return (
            any(i.get("post_id") == oak and i["liked"] for i in items)
            and any(i["kind"] == "points" for i in items)
            and any(i.get("post_id") == everyone for i in items)
        )

    # the like is the last write: every one before it is projected by then too
    until_projected_sync(parent, liked, path=GATEWAY_CAUGHT_UP_PATH)
    assert has_everything(), "the feed shows the points and posts"
    items = feed(parent, limit=50)["items"]
    by_post = {i["post_id"]: i for i in items if i["kind"] == "post"}
    assert {oak, year3, everyone} <= set(by_post)
    assert ash not in by_post  # a class where this parent has no child
    assert [i["at"] for i in items] == sorted((i["at"] for i in items), reverse=True)
    assert items[0]["post_id"] == everyone  # newest first

    woods = by_post[oak]
    assert woods["about"] == [{"pupil_id": ada, "name": "Ada"}]
    assert (woods["audience"], woods["author"], woods["text"]) == (
        "Oak",
        "Ms Oak",
        "Oak went to the woods",
    )
    assert (woods["likes"], woods["liked"]) == (1, True)
    assert [m["media_id"] for m in woods["attachments"]] == [ada_photo, ben_photo]
    thumb = woods["attachments"][0]["thumb_url"]
    assert thumb == f"/api/stories/schools/{SCHOOL}/media/{ada_photo}?size=thumb"
    picture = parent.get(thumb)  # the feed's media links work through the gateway
    assert picture.status_code == 200, picture.text
    assert picture.headers["content-type"].startswith("image/")
    assert by_post[year3]["audience"] == "Year 3"

    points = next(i for i in items if i["kind"] == "points")
    assert points["about"] == [{"pupil_id": ada, "name": "Ada"}]
    assert points["text"].startswith("Ada got ") and "today: Kindness" in points["text"]

    # page by page, one at a time, it is the same feed
    assert every_item(parent, limit=1) == items

    # Leo's family (Willow, also Year 3) sees the year group's and the school's posts only
    theirs = feed(other_parent, limit=50)["items"]
    assert {year3, everyone} <= {i.get("post_id") for i in theirs}
    assert not {oak, ash} & {i.get("post_id") for i in theirs}
    assert not any(i["kind"] == "points" for i in theirs)

    # Ben's family withdraws consent: his photo leaves the feed, and nothing else does
    withdrawn = office.put(
        f"/api/consent/schools/{SCHOOL}/pupils/{ben}/media-consent", json={"granted": False}
    )
    assert withdrawn.status_code == 200, withdrawn.text

    def only_ada_shown() -> bool:
        post = next(i for i in feed(parent, limit=50)["items"] if i.get("post_id") == oak)
        return [m["media_id"] for m in post["attachments"]] == [ada_photo]

    until_projected_sync(office, withdrawn, path=GATEWAY_CAUGHT_UP_PATH)
    assert only_ada_shown(), "a withdrawal hides the photo"
    assert parent.get(f"{STORIES}/media/{ben_photo}?size=thumb").status_code == 404
    assert len(feed(parent, limit=50)["items"]) == len(items)


def test_the_feed_is_for_parents(embedded: str) -> None:
    for staff in (TEACHER, LEADER):
        refused = signed_in(embedded, staff).get("/api/feed")
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
    assert client_for(embedded).get("/api/feed").status_code == 401
    parent = signed_in(embedded, PARENT)
    assert parent.get("/api/feed", params={"before": "yesterday"}).status_code == 422
    assert parent.get("/api/feed", params={"limit": 0}).status_code == 422
    assert parent.get("/api/feed", params={"limit": 51}).status_code == 422
    end = parent.get("/api/feed", params={"before": "0000000000000000.000000000000"})
    assert end.status_code == 200 and end.json() == {"items": [], "next": None}
