"""Stories through the gateway, as `make run` serves it: the demo school, real HTTP, the
stories API under /api/stories/ with media bytes passed through as they are."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from tests.conftest import demo_ids, start_demo

SCHOOL = "/api/stories/schools/demo-school"
TEACHER = {"email": "teacher@demo.school", "password": "demo-teacher-pass"}
PARENT = {"email": "parent@demo.school", "password": "demo-parent-pass"}


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base, proc = start_demo(tmp_path_factory.mktemp("embedded-stories"))
    yield base
    proc.stop()


def signed_in(base: str, who: dict[str, str]) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=20)
    deadline = time.monotonic() + 60
    while True:  # the demo accounts are seeded just after start
        answer = client.post("/api/session", json=who)
        if answer.status_code == 200:
            return client
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.2)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (80, 60), "teal").save(out, format="PNG")
    return out.getvalue()


def test_a_class_story_reaches_the_family_with_its_photo(embedded: str) -> None:
    teacher, parent = signed_in(embedded, TEACHER), signed_in(embedded, PARENT)
    ids = demo_ids(embedded)  # the demo's pupils and classes, by the names it filed them under
    try:
        uploaded = teacher.post(
            f"{SCHOOL}/media", content=_png(), headers={"content-type": "image/png"}
        )
        assert uploaded.status_code == 201, uploaded.text
        media = uploaded.json()["media_id"]

        def attach(*tagged: str) -> dict[str, object]:
            return {
                "audience": {"kind": "classes", "class_ids": [ids["oak"]]},
                "text": "Our rockets",
                "attachments": [
                    {
                        "media_id": media,
                        "kind": "image",
                        "tagged_pupil_ids": [ids[t] for t in tagged],
                    }
                ],
            }

        refused = teacher.post(f"{SCHOOL}/posts", json=attach("ada", "cara"))
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"].endswith("/no-media-consent")
        assert "Cara" in refused.json()["detail"]

        published = teacher.post(f"{SCHOOL}/posts", json=attach("ada"))
        assert published.status_code == 201, published.text
        post_id = published.json()["post_id"]

        deadline = time.monotonic() + 15
        while True:
            feed = parent.get(f"{SCHOOL}/posts", params={"pupil_id": ids["ada"]})
            assert feed.status_code == 200, feed.text
            if any(p["post_id"] == post_id for p in feed.json()):
                break
            assert time.monotonic() < deadline, "the post never reached the family"
            time.sleep(0.05)

        picture = parent.get(f"{SCHOOL}/media/{media}", params={"size": "thumb"})
        assert picture.status_code == 200, picture.text
        assert picture.headers["content-type"] == "image/jpeg"
        assert picture.headers["cache-control"] == "private, no-cache"
        assert picture.headers["x-content-type-options"] == "nosniff"
        assert picture.headers["content-disposition"] == "inline"
        assert picture.content.startswith(b"\xff\xd8")

        liked = parent.post(f"{SCHOOL}/posts/{post_id}/like")
        assert liked.status_code == 200 and liked.json()["liked"] is True
    finally:
        teacher.close()
        parent.close()
