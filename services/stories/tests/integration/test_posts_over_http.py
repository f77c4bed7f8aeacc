"""Posts over real HTTP, with the API and its projection worker as separate processes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from schoolgate_kit.testing.waiting import until

from .conftest import (
    UPLOAD_LIMIT,
    School,
    StoriesService,
    new_school,
    pdf,
    photo,
    png,
    post,
    upload,
)

PROBLEM = "application/problem+json"


def slug(answer: httpx.Response) -> str:
    assert answer.headers["content-type"] == PROBLEM, answer.text
    kind: str = answer.json()["type"]
    return kind.rsplit("/", 1)[-1]


@pytest.fixture
async def school(stories: StoriesService) -> School:
    return await new_school(stories)


async def test_a_photo_of_pupils_without_consent_is_refused_naming_them_and_writes_nothing(
    stories: StoriesService, client: httpx.AsyncClient, school: School
) -> None:
    media = await upload(client, school, school.teacher)
    before = await stories.head()
    answer = await client.post(
        school.path("/posts"),
        headers=school.teacher,
        json={
            "audience": {"kind": "classes", "class_ids": ["oak"]},
            "text": "Sports day",
            "attachments": [photo(media, school.p("ada"), school.p("ben"), school.p("kit"))],
        },
    )
    assert answer.status_code == 422, answer.text
    assert slug(answer) == "no-media-consent"
    problem = answer.json()
    assert "Ben and Kit" in problem["detail"] and "Ada" not in problem["detail"]
    assert problem["pupils"] == [
        {"pupil_id": school.p("ben"), "name": "Ben"},
        {"pupil_id": school.p("kit"), "name": "Kit"},
    ]
    assert await stories.head() == before

    # a leader's exception lets a pupil in care appear; ben still has no consent
    await school.exception("kit")
    await stories.caught_up()
    only_kit = [photo(media, school.p("ada"), school.p("kit"))]
    published = await post(client, school, school.teacher, attachments=only_kit)
    assert [a["tagged_pupil_ids"] for a in published["attachments"]] == [
        [school.p("ada"), school.p("kit")]
    ]
    assert await stories.head() == before + 2  # the exception and the post


async def test_a_photo_that_does_not_say_who_is_in_it_is_refused_and_writes_nothing(
    stories: StoriesService, client: httpx.AsyncClient, school: School
) -> None:
    """Kit is in care with no exception: untagged, her photo used to post."""
    media = await upload(client, school, school.teacher)
    before = await stories.head()
    said_nothing = {"media_id": media, "kind": "image", "alt_text": "Kit at sports day"}
    both = {**photo(media, school.p("kit")), "no_child_recognisable": True}
    for attachment in (said_nothing, both):
        answer = await client.post(
            school.path("/posts"),
            headers=school.teacher,
            json={
                "audience": {"kind": "classes", "class_ids": ["oak"]},
                "text": "Sports day",
                "attachments": [attachment],
            },
        )
        assert answer.status_code == 422, answer.text
        assert slug(answer) == "say-who-is-in-it"
        assert answer.json()["media_ids"] == [media]
    assert await stories.head() == before

    # saying so lets it post; naming Kit meets the consent rule, which refuses her
    nobody = await post(client, school, school.teacher, attachments=[photo(media)])
    assert nobody["attachments"][0]["no_child_recognisable"] is True
    named = await client.post(
        school.path("/posts"),
        headers=school.teacher,
        json={
            "audience": {"kind": "classes", "class_ids": ["oak"]},
            "attachments": [photo(media, school.p("kit"))],
        },
    )
    assert slug(named) == "no-media-consent"

    # an edit must say it too
    edited = await client.put(
        school.path(f"/posts/{nobody['post_id']}"),
        headers=school.teacher,
        json={"text": "Sports day!", "attachments": [said_nothing]},
    )
    assert edited.status_code == 422 and slug(edited) == "say-who-is-in-it", edited.text
    assert await stories.head() == before + 1


async def test_one_post_to_two_classes_is_one_post_both_families_see(
    stories: StoriesService, client: httpx.AsyncClient, school: School
) -> None:
    media = await upload(client, school, school.leader)
    before = await stories.head()
    published = await post(
        client,
        school,
        school.leader,
        classes=("oak", "ash"),
        attachments=[photo(media, school.p("ada"), school.p("cal"))],
    )
    assert await stories.head() == before + 1
    await stories.caught_up()
    post_id = published["post_id"]
    for child in ("ada", "cal"):
        feed = await client.get(
            school.path(f"/posts?pupil_id={school.p(child)}"), headers=school.parent(child)
        )
        assert [p["post_id"] for p in feed.json()] == [post_id], feed.text
        assert [a["media_id"] for a in feed.json()[0]["attachments"]] == [media]
        assert "tagged_pupil_ids" not in feed.json()[0]["attachments"][0] or (
            feed.json()[0]["attachments"][0]["tagged_pupil_ids"] is None
        )
    dot = await client.get(
        school.path(f"/posts?pupil_id={school.p('dot')}"), headers=school.parent("dot")
    )
    assert dot.json() == []
    for class_id, expected in (("oak", [post_id]), ("ash", [post_id]), ("elm", [])):
        listed = await client.get(school.path(f"/posts?class_id={class_id}"), headers=school.office)
        assert [p["post_id"] for p in listed.json()] == expected


async def test_withdrawn_consent_hides_the_media_from_families_within_seconds_and_back(
    stories: StoriesService, client: httpx.AsyncClient, school: School
) -> None:
    media = await upload(client, school, school.teacher)
    other = await upload(client, school, school.teacher)
    published = await post(
        client,
        school,
        school.teacher,
        attachments=[photo(media, school.p("ada")), photo(other)],
    )
    await stories.caught_up()
    post_path = school.path(f"/posts/{published['post_id']}")
    family = school.parent("ben")
    media_path = school.path(f"/media/{media}")

    async def family_sees() -> list[str]:
        answer = await client.get(post_path, headers=family)
        assert answer.status_code == 200, answer.text
        return [a["media_id"] for a in answer.json()["attachments"]]

    assert await family_sees() == [media, other]
    assert (await client.get(media_path, headers=family)).status_code == 200

    await school.withdraw("ada")
    # bounded: the caught-up route waits at most 10 s for the withdrawal to be projected
    await stories.caught_up()
    assert await family_sees() == [other], "the post stays; only the media is hidden"
    refused = await client.get(media_path, headers=family)
    assert refused.status_code == 404 and slug(refused) == "media-not-found"
    assert (await client.get(media_path + "?size=thumb", headers=family)).status_code == 404
    staff = await client.get(post_path, headers=school.teacher)
    assert [(a["media_id"], a["hidden"]) for a in staff.json()["attachments"]] == [
        (media, True),
        (other, False),
    ]
    assert (await client.get(media_path, headers=school.teacher)).status_code == 200
    feed = await client.get(school.path(f"/posts?pupil_id={school.p('ben')}"), headers=family)
    assert [a["media_id"] for a in feed.json()[0]["attachments"]] == [other]

    await school.grant("ada")
    await stories.caught_up()
    assert media in await family_sees()
    assert (await client.get(media_path, headers=family)).status_code == 200


async def test_media_answers_carry_their_type_and_cache_headers(
    client: httpx.AsyncClient, school: School
) -> None:
    image = await upload(client, school, school.teacher)
    answer = await client.get(school.path(f"/media/{image}"), headers=school.teacher)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/jpeg"
    assert answer.headers["cache-control"] == "private, no-cache"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["content-disposition"] == "inline"
    assert answer.content.startswith(b"\xff\xd8")
    thumb = await client.get(school.path(f"/media/{image}?size=thumb"), headers=school.teacher)
    assert thumb.status_code == 200 and thumb.content.startswith(b"\xff\xd8")

    uploaded = await client.post(
        school.path("/media"),
        headers={**school.teacher, "content-type": "application/pdf"},
        content=pdf(),
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["kind"] == "document"
    document = uploaded.json()["media_id"]
    answer = await client.get(school.path(f"/media/{document}"), headers=school.teacher)
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == "attachment"
    no_thumb = await client.get(
        school.path(f"/media/{document}?size=thumb"), headers=school.teacher
    )
    assert no_thumb.status_code == 404


async def test_uploads_are_checked_and_limited_before_they_are_read(
    stories: StoriesService, client: httpx.AsyncClient, school: School
) -> None:
    answer = await client.post(
        school.path("/media"),
        headers={**school.teacher, "content-type": "image/png"},
        content=png(120, 80),
    )
    assert answer.status_code == 201, answer.text
    assert (answer.json()["kind"], answer.json()["content_type"]) == ("image", "image/jpeg")
    assert (answer.json()["width"], answer.json()["height"]) == (120, 80)

    # refused on its declared length alone: the body is never sent
    status, body = await _declare_only(stories, school, UPLOAD_LIMIT + 1)
    assert status == 413 and b"media-too-large" in body

    def chunks() -> Any:
        for _ in range(UPLOAD_LIMIT // 65536 + 2):
            yield b"\0" * 65536

    streamed = await client.post(
        school.path("/media"), headers=school.teacher, content=_agen(chunks())
    )
    assert streamed.status_code == 413 and slug(streamed) == "media-too-large"

    unsafe = await client.post(
        school.path("/media"),
        headers={**school.teacher, "content-type": "image/png"},
        content=b"<html><script>alert(1)</script></html>",
    )
    assert unsafe.status_code == 422 and slug(unsafe) == "unsafe-media"
    empty = await client.post(school.path("/media"), headers=school.teacher, content=b"")
    assert empty.status_code == 422

    parent = await client.post(school.path("/media"), headers=school.parent("ada"), content=png())
    assert parent.status_code == 403

    mine = uuid.uuid4().hex
    first = await client.post(
        school.path(f"/media?media_id={mine}"), headers=school.teacher, content=png()
    )
    again = await client.post(
        school.path(f"/media?media_id={mine}"), headers=school.teacher, content=png()
    )
    assert first.status_code == again.status_code == 201, again.text
    assert first.json() == again.json()
    taken = await client.post(
        school.path(f"/media?media_id={mine}"), headers=school.teacher, content=png(colour="blue")
    )
    assert taken.status_code == 409 and slug(taken) == "media-id-in-use"


async def _declare_only(stories: StoriesService, school: School, length: int) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", stories.port)
    try:
        head = (
            f"POST {school.path('/media')} HTTP/1.1\r\nhost: test\r\n"
            f"authorization: {school.teacher['authorization']}\r\n"
            f"content-type: image/png\r\ncontent-length: {length}\r\n\r\n"
        )
        writer.write(head.encode())
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
        headers = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        length = next(
            int(line.split(b":")[1])
            for line in headers.lower().splitlines()
            if line.startswith(b"content-length:")
        )
        body = await asyncio.wait_for(reader.readexactly(length), timeout=10)
        return int(status_line.split()[1]), body
    finally:
        writer.close()


async def _agen(chunks: Any) -> Any:
    for chunk in chunks:
        yield chunk


async def test_attachments_must_be_this_authors_media_of_this_school_and_of_their_kind(
    stories: StoriesService, client: httpx.AsyncClient, school: School
) -> None:
    someone_elses = await upload(client, school, school.assistant)
    elsewhere = await upload(
        client,
        School(id=school.other, other=school.id, stories=stories),
        school.other_teacher,
    )
    mine = await upload(client, school, school.teacher)
    before = await stories.head()
    for attachment, expected in (
        (photo(someone_elses), "media-not-yours"),
        (photo(elsewhere), "unknown-media"),
        (photo(uuid.uuid4().hex), "unknown-media"),
        (photo(mine, kind="document"), "wrong-media-kind"),
        (photo(mine, "nobody-here"), "unknown-pupil"),
    ):
        answer = await client.post(
            school.path("/posts"),
            headers=school.teacher,
            json={
                "audience": {"kind": "classes", "class_ids": ["oak"]},
                "text": "x",
                "attachments": [attachment],
            },
        )
        assert answer.status_code == 422, answer.text
        assert slug(answer) == expected
    assert await stories.head() == before


BAD_POSTS: list[tuple[str, dict[str, Any], str]] = [
    ("no audience", {"text": "x"}, "validation-error"),
    ("unknown kind", {"audience": {"kind": "everyone"}, "text": "x"}, "validation-error"),
    ("classes without classes", {"audience": {"kind": "classes"}, "text": "x"}, "bad-audience"),
    (
        "school with a class",
        {"audience": {"kind": "school", "class_ids": ["oak"]}, "text": "x"},
        "bad-audience",
    ),
    (
        "unknown class",
        {"audience": {"kind": "classes", "class_ids": ["nowhere"]}, "text": "x"},
        "unknown-class",
    ),
    (
        "unknown year group",
        {"audience": {"kind": "year_group", "year_group_id": "y9"}, "text": "x"},
        "unknown-year-group",
    ),
    ("empty", {"audience": {"kind": "school"}, "text": "   "}, "empty-post"),
    ("too long", {"audience": {"kind": "school"}, "text": "x" * 10_001}, "validation-error"),
    ("extra field", {"audience": {"kind": "school"}, "text": "x", "pin": 1}, "validation-error"),
    (
        "naive time",
        {"audience": {"kind": "school"}, "text": "x", "visible_from": "2030-01-01T09:00:00"},
        "validation-error",
    ),
    (
        "too far ahead",
        {
            "audience": {"kind": "school"},
            "text": "x",
            "visible_from": (datetime.now(UTC) + timedelta(days=400)).isoformat(),
        },
        "scheduled-too-far",
    ),
    (
        "bad post id",
        {"audience": {"kind": "school"}, "text": "x", "post_id": "1"},
        "validation-error",
    ),
    (
        "bad media id",
        {
            "audience": {"kind": "school"},
            "text": "x",
            "attachments": [{"media_id": "../etc/passwd", "kind": "image"}],
        },
        "validation-error",
    ),
]


@pytest.mark.parametrize(("name", "body", "expected"), BAD_POSTS, ids=[b[0] for b in BAD_POSTS])
async def test_a_bad_post_is_refused_as_problem_json_and_writes_nothing(
    stories: StoriesService,
    client: httpx.AsyncClient,
    school: School,
    name: str,
    body: dict[str, Any],
    expected: str,
) -> None:
    before = await stories.head()
    answer = await client.post(school.path("/posts"), headers=school.leader, json=body)
    assert answer.status_code == 422, answer.text
    assert slug(answer) == expected
    assert await stories.head() == before


async def test_edits_and_deletes_by_the_author_or_a_leader(
    stories: StoriesService, client: httpx.AsyncClient, school: School
) -> None:
    media = await upload(client, school, school.teacher)
    post_id = str(uuid.uuid4())
    published = await post(
        client, school, school.teacher, attachments=[photo(media)], post_id=post_id
    )
    assert published["post_id"] == uuid.UUID(post_id).hex
    before = await stories.head()
    again = await client.post(
        school.path("/posts"),
        headers=school.teacher,
        json={
            "post_id": post_id,
            "audience": {"kind": "classes", "class_ids": ["oak"]},
            "text": "Our week",
            "attachments": [photo(media)],
        },
    )
    assert again.status_code == 201, "a retried post is the same post"
    assert await stories.head() == before
    path = school.path(f"/posts/{published['post_id']}")

    mine = await upload(client, school, school.assistant)
    edit = {"text": "Our lovely week", "attachments": [photo(media), photo(mine)]}
    assert (await client.put(path, headers=school.assistant, json=edit)).status_code == 403
    assert (await client.put(path, headers=school.office, json=edit)).status_code == 403
    refused = await client.put(
        path, headers=school.teacher, json={**edit, "attachments": [photo(media), photo(mine)]}
    )
    assert refused.status_code == 422 and slug(refused) == "media-not-yours"
    assert await stories.head() == before

    edited = await client.put(
        path,
        headers=school.teacher,
        json={"text": "Our lovely week", "attachments": [photo(media)]},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["text"] == "Our lovely week"
    by_leader = await client.put(
        path,
        headers=school.leader,
        json={"text": "Our lovely week!", "attachments": [photo(media)]},
    )
    assert by_leader.status_code == 200, by_leader.text
    await stories.caught_up()
    family = await client.get(path, headers=school.parent("ada"))
    assert family.json()["text"] == "Our lovely week!"
    assert family.json()["edited_at"] is not None

    assert (await client.delete(path, headers=school.ash_teacher)).status_code == 403
    deleted = await client.delete(path, headers=school.teacher)
    assert deleted.status_code == 200 and deleted.json() == {
        "post_id": published["post_id"],
        "deleted": True,
    }
    await stories.caught_up()
    assert (await client.get(path, headers=school.parent("ada"))).status_code == 404
    assert (await client.get(path, headers=school.teacher)).status_code == 404
    gone = await client.get(school.path(f"/media/{media}"), headers=school.parent("ada"))
    assert gone.status_code == 404
    assert (await client.put(path, headers=school.teacher, json=edit)).status_code == 404


async def test_a_scheduled_post_reaches_families_only_from_its_time(
    stories: StoriesService, client: httpx.AsyncClient, school: School
) -> None:
    media = await upload(client, school, school.teacher)
    at = datetime.now(UTC) + timedelta(seconds=3)
    published = await post(
        client, school, school.teacher, attachments=[photo(media)], visible_from=at.isoformat()
    )
    assert published["scheduled"] is True
    await stories.caught_up()
    path = school.path(f"/posts/{published['post_id']}")
    staff = await client.get(path, headers=school.teacher)
    assert staff.status_code == 200 and staff.json()["scheduled"] is True
    family = school.parent("ada")
    assert (await client.get(path, headers=family)).status_code == 404
    assert (await client.get(school.path(f"/media/{media}"), headers=family)).status_code == 404
    assert (await client.post(path + "/like", headers=family)).status_code == 404

    async def shown() -> bool:
        return (await client.get(path, headers=family)).status_code == 200

    await until(shown, within=10, why="the scheduled post reached families")
    assert (await client.get(school.path(f"/media/{media}"), headers=family)).status_code == 200


async def test_posts_to_a_year_group_and_the_whole_school(
    stories: StoriesService, client: httpx.AsyncClient, school: School
) -> None:
    year = {"audience": {"kind": "year_group", "year_group_id": "y1"}, "text": "Year 1 trip"}
    whole = {"audience": {"kind": "school"}, "text": "Closed on Friday"}
    assert (
        await client.post(school.path("/posts"), headers=school.assistant, json=year)
    ).status_code == 403
    assert (
        await client.post(school.path("/posts"), headers=school.teacher, json=whole)
    ).status_code == 403
    elm = school.staff_of("elm")
    assert (await client.post(school.path("/posts"), headers=elm, json=year)).status_code == 403
    by_teacher = await client.post(school.path("/posts"), headers=school.teacher, json=year)
    assert by_teacher.status_code == 201, by_teacher.text
    by_leader = await client.post(school.path("/posts"), headers=school.leader, json=whole)
    assert by_leader.status_code == 201, by_leader.text
    await stories.caught_up()

    async def feed(child: str) -> list[str]:
        answer = await client.get(
            school.path(f"/posts?pupil_id={school.p(child)}"), headers=school.parent(child)
        )
        return [p["text"] for p in answer.json()]

    assert sorted(await feed("cal")) == ["Closed on Friday", "Year 1 trip"]
    assert await feed("dot") == ["Closed on Friday"]
    ash = await client.get(school.path("/posts?class_id=ash"), headers=school.ash_teacher)
    assert sorted(p["text"] for p in ash.json()) == ["Closed on Friday", "Year 1 trip"]


async def test_likes_count_once_per_parent_and_come_off_once(
    stories: StoriesService, client: httpx.AsyncClient, school: School
) -> None:
    published = await post(client, school, school.teacher)
    await stories.caught_up()
    path = school.path(f"/posts/{published['post_id']}")
    ada, ben = school.parent("ada"), school.parent("ben")
    before = await stories.head()
    for _ in range(2):
        answer = await client.post(path + "/like", headers=ada)
        assert answer.status_code == 200 and answer.json() == {
            "post_id": published["post_id"],
            "liked": True,
        }
    assert (await client.post(path + "/like", headers=ben)).status_code == 200
    assert await stories.head() == before + 2
    await stories.caught_up()
    likes = await client.get(path + "/likes", headers=school.teacher)
    assert likes.json()["count"] == 2
    assert sorted(likes.json()["parent_ids"]) == ["parent-of-ada", "parent-of-ben"]
    seen = (await client.get(path, headers=ada)).json()
    assert (seen["like_count"], seen["liked"]) == (2, True)
    assert (await client.get(path, headers=school.parent("kit"))).json()["liked"] is False

    for _ in range(2):
        answer = await client.delete(path + "/like", headers=ada)
        assert answer.status_code == 200 and answer.json()["liked"] is False
    assert await stories.head() == before + 3
    await stories.caught_up()
    likes = await client.get(path + "/likes", headers=school.teacher)
    assert likes.json() == {
        "post_id": published["post_id"],
        "count": 1,
        "parent_ids": ["parent-of-ben"],
    }

    assert (await client.post(path + "/like", headers=school.parent("cal"))).status_code == 404
    assert (await client.post(path + "/like", headers=school.teacher)).status_code == 403
    assert (await client.get(path + "/likes", headers=ada)).status_code == 403


async def test_comments_stay_off_until_a_leader_turns_them_on(
    stories: StoriesService, client: httpx.AsyncClient, school: School
) -> None:
    published = await post(client, school, school.teacher)
    await stories.caught_up()
    path = school.path(f"/posts/{published['post_id']}/comments")
    ada = school.parent("ada")
    settings = await client.get(school.path("/settings"), headers=ada)
    assert settings.json() == {"comments_enabled": False}
    before = await stories.head()
    off = await client.post(path, headers=ada, json={"text": "Lovely!"})
    assert off.status_code == 403 and slug(off) == "comments-off"
    assert await stories.head() == before

    turn_on = {"comments_enabled": True}
    assert (
        await client.put(school.path("/settings"), headers=school.teacher, json=turn_on)
    ).status_code == 403
    on = await client.put(school.path("/settings"), headers=school.leader, json=turn_on)
    assert on.status_code == 200 and on.json() == turn_on
    added = await client.post(path, headers=ada, json={"text": "Lovely!"})
    assert added.status_code == 201, added.text
    assert (await client.post(path, headers=ada, json={"text": ""})).status_code == 422
    assert (
        await client.post(path, headers=school.parent("cal"), json={"text": "Hi"})
    ).status_code == 404
    await stories.caught_up()
    listed = await client.get(path, headers=school.teacher)
    assert [(c["author_id"], c["text"]) for c in listed.json()] == [("parent-of-ada", "Lovely!")]
    assert (await client.get(school.path("/settings"), headers=ada)).json() == turn_on
