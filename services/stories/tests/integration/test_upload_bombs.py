"""No picture takes the stories API down: bombs are refused with a problem, pictures that
need a lot of memory cost a decoding process, and the API process's own peak memory (the
kernel's VmHWM, started again before each upload) stays where it was."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from schoolgate_kit.problems import PROBLEM_BASE

from .conftest import School, StoriesService, new_school, png, start_service

GREW_AT_MOST = 48
"""MiB the API process's peak may grow by during an upload: the bytes, the clean copy and
the request's own objects. Decoded in the API process, the pictures below cost it 230 MB
(25 megapixels) to 900 MB (49 megapixels) each."""


def status(pid: int, key: str) -> int:
    """A figure from /proc/<pid>/status, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) // 1024
    raise AssertionError(f"no {key} for {pid}")


class Peak:
    """How much the API process's peak resident size grows from now."""

    def __init__(self, stories: StoriesService) -> None:
        self.pid = stories.procs[0].pid
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # VmHWM starts again from VmRSS
        self.before = status(self.pid, "VmHWM")

    @property
    def grew(self) -> int:
        return status(self.pid, "VmHWM") - self.before


def one_colour_png(megapixels: int, mode: str = "RGB") -> bytes:
    """A picture of one colour: tiny to send, as large as any other once decoded."""
    side = int((megapixels * 1_000_000) ** 0.5)
    out = io.BytesIO()
    Image.new(mode, (side, side), "white").save(out, "PNG")
    return out.getvalue()


def phone_photo_12mp() -> bytes:
    """4000 x 3000, saved as a phone would (baseline JPEG, EXIF); with gentle detail, so
    that it fits the 2 MB upload limit of the test service."""
    image = Image.effect_noise((100, 75), 50).resize((4000, 3000)).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 1  # orientation
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88, exif=exif)
    return out.getvalue()


@pytest.fixture(scope="module")
def school(stories: StoriesService) -> School:
    return asyncio.run(new_school(stories))


async def send(
    client: httpx.AsyncClient, school: School, data: bytes, content_type: str = "image/png"
) -> httpx.Response:
    return await client.post(
        school.path("/media"),
        headers={**school.teacher, "content-type": content_type},
        content=data,
    )


def assert_refused(answer: httpx.Response, reason: str) -> None:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["type"] == PROBLEM_BASE + "unsafe-media"
    assert body["reason"] == reason


async def test_a_49_megapixel_png_is_refused_and_costs_the_api_nothing(
    stories: StoriesService, school: School, client: httpx.AsyncClient
) -> None:
    data = one_colour_png(49)
    assert len(data) < 250_000
    peak = Peak(stories)
    answer = await send(client, school, data)
    assert_refused(answer, "too-many-pixels")
    assert peak.grew < GREW_AT_MOST, f"the API's peak grew by {peak.grew} MiB"


async def test_three_at_once_are_refused_and_the_api_stays_small(
    stories: StoriesService, school: School, client: httpx.AsyncClient
) -> None:
    data = one_colour_png(49)
    peak = Peak(stories)
    answers = await asyncio.gather(*(send(client, school, data) for _ in range(3)))
    for answer in answers:
        assert_refused(answer, "too-many-pixels")
    assert peak.grew < GREW_AT_MOST, f"the API's peak grew by {peak.grew} MiB"


async def test_a_large_picture_within_the_limits_costs_a_decoding_process_not_the_api(
    stories: StoriesService, school: School, client: httpx.AsyncClient
) -> None:
    data = one_colour_png(25, "RGBA")
    peak = Peak(stories)
    answers = await asyncio.gather(*(send(client, school, data) for _ in range(3)))
    for answer in answers:
        assert answer.status_code == 201, answer.text
        assert (answer.json()["width"], answer.json()["height"]) == (1600, 1600)
    assert peak.grew < GREW_AT_MOST, f"the API's peak grew by {peak.grew} MiB"


async def test_a_12_megapixel_phone_photo_still_works(
    stories: StoriesService, school: School, client: httpx.AsyncClient
) -> None:
    peak = Peak(stories)
    answer = await send(client, school, phone_photo_12mp(), "image/jpeg")
    assert answer.status_code == 201, answer.text
    assert answer.json()["kind"] == "image"
    assert (answer.json()["width"], answer.json()["height"]) == (1600, 1200)
    assert peak.grew < GREW_AT_MOST, f"the API's peak grew by {peak.grew} MiB"


# a tight memory limit -----------------------------------------------------------------


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoriesService]:
    """A stories service whose decoding processes may use 64 MiB each."""
    service = start_service(
        tmp_path_factory.mktemp("stories-tight"),
        stories_decode_memory_max_bytes=str(64 * 1024 * 1024),
    )
    yield service
    service.stop()


async def test_past_the_memory_limit_a_picture_is_too_large_and_the_next_one_works(
    tight: StoriesService,
) -> None:
    async with httpx.AsyncClient(base_url=tight.url, timeout=60) as client:
        school = await new_school(tight)
        answer = await send(client, school, one_colour_png(25, "RGBA"))
        assert_refused(answer, "too-large-to-process")
        assert "too large to process" in answer.json()["detail"]
        after = await send(client, school, png())
        assert after.status_code == 201, after.text
        tight.assert_alive()
