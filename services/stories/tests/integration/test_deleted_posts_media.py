"""A deleted story's photo is gone for everyone, staff and its uploader included, over real
HTTP to the service's processes; a photo another post still shows stays."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import httpx

from .conftest import StoriesService, new_school, photo, post, upload

FOLLOWED_WITHIN = 30.0


def retention_checkpoint(stories: StoriesService) -> int:
    with sqlite3.connect(stories.data_dir / "readmodels.db") as conn:
        row = conn.execute(
            "SELECT checkpoint FROM generations WHERE projection = ? AND generation = 0",
            ("stories.media_holds",),
        ).fetchone()
    return 0 if row is None else int(row[0])


async def retention_followed(stories: StoriesService) -> None:
    """Wait until the API process's media retention has followed the log to its head."""
    head = await stories.head()
    deadline = time.monotonic() + FOLLOWED_WITHIN
    while retention_checkpoint(stories) < head:
        stories.assert_alive()
        assert time.monotonic() < deadline, f"media retention never reached position {head}"
        await asyncio.sleep(0.05)


async def test_a_deleted_posts_photo_is_not_found_by_anyone(
    stories: StoriesService, client: httpx.AsyncClient
) -> None:
    school = await new_school(stories)
    gone = await upload(client, school, school.teacher)
    shared = await upload(client, school, school.teacher)
    first = await post(client, school, school.teacher, attachments=[photo(gone), photo(shared)])
    await post(client, school, school.teacher, attachments=[photo(shared)])
    await retention_followed(stories)
    for media_id in (gone, shared):
        answer = await client.get(school.path(f"/media/{media_id}"), headers=school.leader)
        assert answer.status_code == 200, answer.text

    deleted = await client.delete(school.path(f"/posts/{first['post_id']}"), headers=school.teacher)
    assert deleted.status_code == 200, deleted.text
    await retention_followed(stories)

    for who in (school.leader, school.teacher, school.office):
        for size in ("full", "thumb"):
            answer = await client.get(school.path(f"/media/{gone}?size={size}"), headers=who)
            assert answer.status_code == 404, answer.text
            assert answer.json()["type"].endswith("/media-not-found")
    kept = await client.get(school.path(f"/media/{shared}"), headers=school.leader)
    assert kept.status_code == 200, "another post still shows it"
