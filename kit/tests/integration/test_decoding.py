"""The decoder: each upload is made safe in a process of its own, with a memory limit, a
few at a time. Real processes throughout; the memory figures are the kernel's.

Some tests run ``eval`` as the work instead of ``make_safe``, so that a test decides what
the decoding process does (wait to be killed, return at once): the process imports its
work by name, and test modules are not importable by name here (``--import-mode=importlib``),
while a builtin always is.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
from pathlib import Path

import pytest
from PIL import Image
from schoolgate_kit.media.decoding import Decoder, DecoderClosed
from schoolgate_kit.media.safety import LOSSLESS_MAX_PIXELS, SafeMedia, UnsafeMedia, make_safe
from schoolgate_kit.testing.waiting import until

MiB = 1024 * 1024
WAIT = b"__import__('signal').pause()"
"""Work that never ends by itself: the process waits to be killed."""
DONE = (
    b"__import__('schoolgate_kit.media.safety', fromlist=['SafeMedia'])"
    b".SafeMedia(kind='image', content_type='image/jpeg', variants={'full': b'ok'})"
)
"""Work that succeeds at once."""


def status(key: str, pid: int | str = "self") -> int:
    """A figure from /proc/<pid>/status, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) // 1024
    raise AssertionError(f"no {key} for {pid}")


def reset_peak(pid: int | str = "self") -> None:
    """Start VmHWM (the peak resident size) again from the current size."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def big_png() -> bytes:
    """25 megapixels with transparency, 100 KB to send: about 230 MB to make safe."""
    side = int(LOSSLESS_MAX_PIXELS**0.5)
    out = io.BytesIO()
    Image.new("RGBA", (side, side), (30, 120, 200, 128)).save(out, "PNG")
    return out.getvalue()


def small_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(out, "PNG")
    return out.getvalue()


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True


async def test_a_big_picture_costs_the_decoding_process_not_this_one() -> None:
    decoder = Decoder(concurrency=1, memory_max_bytes=512 * MiB)
    data = big_png()
    try:
        await decoder.make_safe(small_png())  # the fork server is up before measuring
        reset_peak()
        before = status("VmHWM")
        safe = await decoder.make_safe(data)
        grew = status("VmHWM") - before
    finally:
        await decoder.close()
    assert (safe.kind, safe.width, safe.height) == ("image", 1600, 1600)
    # Made safe here, the same picture raises this process's peak by about 230 MB.
    assert grew < 40, f"the peak resident size of the calling process grew by {grew} MiB"


async def test_a_picture_over_the_memory_limit_is_too_large_and_the_next_one_works() -> None:
    decoder = Decoder(concurrency=1, memory_max_bytes=64 * MiB)
    try:
        with pytest.raises(UnsafeMedia) as caught:
            await decoder.make_safe(big_png())
        assert caught.value.reason == "too-large-to-process"
        assert "picture is too large to process" in caught.value.detail
        assert caught.value.status == 422
        safe = await decoder.make_safe(small_png())
    finally:
        await decoder.close()
    assert safe.kind == "image"


async def test_a_48_megapixel_photo_is_decoded_at_reduced_scale_within_100_mib() -> None:
    """Decoded at full size, its pixels alone would be 137 MiB."""
    out = io.BytesIO()
    Image.effect_noise((1000, 750), 40).resize((8000, 6000)).convert("RGB").save(
        out, "JPEG", quality=90
    )
    decoder = Decoder(concurrency=1, memory_max_bytes=100 * MiB)
    try:
        safe = await decoder.make_safe(out.getvalue())
    finally:
        await decoder.close()
    assert (safe.width, safe.height) == (1600, 1200)


def test_the_same_picture_fits_in_process_without_a_limit() -> None:
    """The limit, not the picture, is what refused it above."""
    assert make_safe(big_png()).width == 1600


async def test_a_decoding_process_killed_midway_is_too_large_and_the_next_one_works() -> None:
    decoder = Decoder(concurrency=1, memory_max_bytes=64 * MiB, work=eval)
    try:
        job = asyncio.create_task(decoder.make_safe(WAIT))
        await until(lambda: decoder.running, within=30, why="the decoding process starts")
        (pid,) = decoder.running
        os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer would
        with pytest.raises(UnsafeMedia) as caught:
            await job
        assert caught.value.reason == "too-large-to-process"
        assert await decoder.make_safe(DONE) == SafeMedia(
            kind="image", content_type="image/jpeg", variants={"full": b"ok"}
        )
    finally:
        await decoder.close()


async def test_no_more_than_the_concurrency_decode_at_once() -> None:
    decoder = Decoder(concurrency=2, memory_max_bytes=64 * MiB, work=eval)
    try:
        jobs = [asyncio.create_task(decoder.make_safe(WAIT)) for _ in range(3)]
        await until(
            lambda: len(decoder.running) == 2 and decoder.queued == 1,
            within=30,
            why="two decode and the third waits its turn",
        )
        first = decoder.running
        os.kill(first[0], signal.SIGKILL)
        await until(
            lambda: decoder.queued == 0 and len(set(decoder.running) - set(first)) == 1,
            within=30,
            why="the third starts when the first ends",
        )
        assert len(decoder.running) == 2
        for pid in decoder.running:
            os.kill(pid, signal.SIGKILL)
        results = await asyncio.gather(*jobs, return_exceptions=True)
    finally:
        await decoder.close()
    assert all(
        isinstance(r, UnsafeMedia) and r.reason == "too-large-to-process" for r in results
    ), results


async def test_an_abandoned_request_ends_its_decoding_process_before_freeing_its_turn() -> None:
    decoder = Decoder(concurrency=1, memory_max_bytes=64 * MiB, work=eval)
    try:
        job = asyncio.create_task(decoder.make_safe(WAIT))
        await until(lambda: decoder.running, within=30, why="the decoding process starts")
        (pid,) = decoder.running
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job
        assert decoder.running == []
        await until(lambda: gone(pid), within=30, why="the abandoned process is gone")
        assert (await decoder.make_safe(DONE)).kind == "image"
    finally:
        await decoder.close()


async def test_closing_ends_the_decodes_under_way_and_refuses_new_ones() -> None:
    decoder = Decoder(concurrency=1, memory_max_bytes=64 * MiB, work=eval)
    job = asyncio.create_task(decoder.make_safe(WAIT))
    await until(lambda: decoder.running, within=30, why="the decoding process starts")
    (pid,) = decoder.running
    await decoder.close()
    with pytest.raises(UnsafeMedia):
        await job
    await until(lambda: gone(pid), within=30, why="the process is gone")
    with pytest.raises(DecoderClosed):
        await decoder.make_safe(DONE)
