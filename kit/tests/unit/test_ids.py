"""Random ids drawn from the kernel in batches: version 4, never repeated, and a forked
child never hands out its parent's next ids."""

from __future__ import annotations

import multiprocessing
import os
import uuid

import pytest
from schoolgate_kit import ids


def test_ids_are_random_version_4_uuids_and_never_repeat_across_batches() -> None:
    drawn = [ids.new_id() for _ in range(3 * ids.BATCH + 7)]
    assert len(set(drawn)) == len(drawn)
    assert {d.version for d in drawn} == {4}
    assert {d.variant for d in drawn} == {uuid.RFC_4122}


def test_the_kernel_is_asked_once_per_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []
    urandom = os.urandom

    def counted(size: int) -> bytes:
        asked.append(size)
        return urandom(size)

    monkeypatch.setattr(ids.os, "urandom", counted)
    for _ in range(4 * ids.BATCH):
        ids.new_id()
    assert len(asked) <= 5, "each id should not cost a call to the kernel"


def _child_draws(sender: multiprocessing.connection.Connection) -> None:
    sender.send(ids.new_id())
    sender.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forking needs a POSIX system")
def test_a_forked_child_draws_afresh() -> None:
    ids.new_id()  # the parent holds a batch it has barely used
    receiver, sender = multiprocessing.get_context("fork").Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(target=_child_draws, args=(sender,))
    child.start()
    from_child = receiver.recv()
    child.join(10)
    assert from_child != ids.new_id(), "the child handed out the parent's next id"
