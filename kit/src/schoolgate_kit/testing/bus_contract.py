"""The bus contract: subclass ``BusContract`` and provide a ``bus`` fixture (max 3 deliveries)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

from schoolgate_kit.bus import Bus, Message
from schoolgate_kit.testing.waiting import until

MAX_DELIVERIES = 3


def message(routing_key: str = "points.PointAwarded", body: bytes = b"{}") -> Message:
    return Message(
        message_id=uuid.uuid4().hex,
        routing_key=routing_key,
        body=body,
        headers={"stream": "points-x", "position": 1},
    )


class BusContract:
    def queue(self) -> str:
        return f"test.{uuid.uuid4().hex[:10]}"

    async def test_published_messages_reach_bound_queues_only(self, bus: Bus) -> None:
        got: dict[str, list[str]] = {"points": [], "all": []}

        def collect(name: str):  # type: ignore[no-untyped-def]
            async def handler(m: Message) -> None:
                got[name].append(m.message_id)

            return handler

        await bus.consume(self.queue(), ["points.*"], collect("points"))
        await bus.consume(self.queue(), ["#"], collect("all"))
        a, b = message("points.PointAwarded"), message("stories.StoryPosted")
        await bus.publish([a, b])
        await until(lambda: len(got["all"]) == 2 and len(got["points"]) == 1)
        assert got["points"] == [a.message_id]
        assert sorted(got["all"]) == sorted([a.message_id, b.message_id])

    async def test_message_keeps_id_body_and_headers(self, bus: Bus) -> None:
        seen: list[Message] = []

        async def handler(m: Message) -> None:
            seen.append(m)

        await bus.consume(self.queue(), ["points.#"], handler)
        sent = message(body=b'{"hello": "world"}')
        await bus.publish([sent])
        await until(lambda: len(seen) == 1)
        assert seen[0].message_id == sent.message_id
        assert seen[0].body == sent.body
        assert seen[0].routing_key == sent.routing_key
        assert seen[0].headers["stream"] == "points-x"

    async def test_a_batch_arrives_whole_and_in_order(self, bus: Bus) -> None:
        # big enough to cross AMQP's frame size (128 KiB), so a body is sent in pieces
        seen: list[Message] = []

        async def handler(m: Message) -> None:
            seen.append(m)

        await bus.consume(self.queue(), ["points.#"], handler)
        sent = [message(body=b"%d:" % n + b"x" * (n * 997)) for n in range(300)]
        sent[7] = message(body=bytes(range(256)) * 1200)  # 300 KiB of every byte value
        await bus.publish(sent[:150])
        await bus.publish(sent[150:])
        await until(lambda: len(seen) == len(sent))
        assert [m.message_id for m in seen] == [m.message_id for m in sent]
        assert [m.body for m in seen] == [m.body for m in sent]
        assert all(m.headers["position"] == 1 for m in seen)

    async def test_batches_sent_ahead_of_confirms_arrive_in_order(self, bus: Bus) -> None:
        seen: list[str] = []

        async def handler(m: Message) -> None:
            seen.append(m.message_id)

        await bus.consume(self.queue(), ["points.#"], handler)
        batches = [[message() for _ in range(50)] for _ in range(4)]
        confirms = [await bus.send(batch) for batch in batches]  # none awaited yet
        await asyncio.gather(*confirms)
        assert all(c.done() and c.exception() is None for c in confirms)
        assert (await bus.send([])).done()
        await until(lambda: len(seen) == 200)
        assert seen == [m.message_id for batch in batches for m in batch]

    async def test_failing_message_is_retried_then_dead_lettered_and_replayable(
        self, bus: Bus
    ) -> None:
        queue = self.queue()
        tries: Counter[str] = Counter()
        done: list[str] = []
        broken = {"on": True}

        async def handler(m: Message) -> None:
            tries[m.message_id] += 1
            if m.body == b"poison" and broken["on"]:
                raise ValueError("cannot handle this")
            done.append(m.message_id)

        await bus.consume(queue, ["points.#"], handler)
        poison, fine = message(body=b"poison"), message()
        await bus.publish([poison, fine])
        await until(lambda: fine.message_id in done)
        await until(lambda: tries[poison.message_id] == MAX_DELIVERIES)

        async def dead() -> list[str]:
            return [d.message.message_id for d in await bus.dead_letters(queue)]

        for _ in range(100):
            if await dead():
                break
            await asyncio.sleep(0.05)
        assert await dead() == [poison.message_id]
        assert await dead() == [poison.message_id], "listing must not consume dead letters"
        assert tries[poison.message_id] == MAX_DELIVERIES

        broken["on"] = False
        assert await bus.replay_dead_letters(queue) == 1
        await until(lambda: poison.message_id in done)
        assert await dead() == []
