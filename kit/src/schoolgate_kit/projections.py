"""Projections: a pure ``evolve(doc, event) -> doc | None`` and a runner that owns checkpoints.

The runner reads the store through a catch-up subscription, folds each batch into the
documents it touches, and commits documents and checkpoint together. Each document also
records the last position it reflects, so an event is applied once even where a store can
only write documents one at a time. Replay and live are the same path; ``rebuild`` runs it
from position 0 into a fresh generation and swaps that in once it has caught up.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from multiprocessing.pool import Pool
from typing import Any

import structlog
from schoolgate_contracts import Event, RecordedEvent

from schoolgate_kit import metrics
from schoolgate_kit.eventstore import Batch, EventStore, LogReader, SharedLog
from schoolgate_kit.readmodels import Doc, ReadModelStore

POSITION = "_position"
log = structlog.get_logger()


Derive = Callable[[str, Doc], Mapping[str, Doc]]
Merge = Callable[[Doc, Doc], Doc]
Purge = tuple[Mapping[str, Any], tuple[str, Any]]


@dataclass(frozen=True)
class Projection:
    name: str
    handles: tuple[type[Event], ...]
    key: Callable[[RecordedEvent], str]
    evolve: Callable[[Doc | None, RecordedEvent], Doc | None]
    derive: Derive | None = None
    """Documents that follow from the document at a key: ``derive(key, doc)`` -> {key: doc}.

    Their keys must be the projection's alone (never a key an event maps to) and may differ
    between versions of the document: the runner deletes those that are no longer derived.
    Events never reach them; they change only with the document they come from.
    """
    indexes: tuple[tuple[str, ...], ...] = ()
    """Field lists ``find`` should be fast on (equality fields first, then the field it
    orders or bounds by); made by the runner before it projects."""
    version: int = 1
    """Raise it when ``evolve`` or ``derive`` changes what they write: the runner then
    rebuilds the read model from position 0 before it goes on (as it does by itself when
    the events handled change)."""
    merge: Merge | None = None
    """For documents that add up, such as totals: ``merge(earlier, later)`` is the document
    folding every event gives, where ``earlier`` was folded from the first events and
    ``later`` from the rest, starting from nothing. With it (and no ``derive``), a rebuild
    folds parts of the log side by side, a process each, and merges them in order. Its
    ``evolve`` must never delete a document, and ``key``, ``evolve`` and ``merge`` must be
    module-level functions, as the other processes import them by name."""
    evolve_in_place: Callable[[Doc | None, RecordedEvent], Doc | None] | None = None
    """``evolve`` allowed to change the document it is given (and return it): same result,
    without copying. A rebuild owns every document it folds and uses it instead of
    ``evolve``; live runners, whose documents are also in their cache, never do. Not with
    ``derive``, which compares a document before and after; module-level, as ``evolve``."""

    purged_by: tuple[type[Event], ...] = ()
    """Events saying data is past its retention; ``purge`` says which documents go."""
    purge: Callable[[RecordedEvent], Purge] | None = None
    """``purge(event)`` -> ``(where, before)``: the documents ``ReadModelStore.purge`` deletes
    on each event of ``purged_by``, once what came before it is written. The events those
    documents came from must no longer be readable by then (their keys destroyed), so a
    rebuild, which folds without purging, never makes them again."""

    def __post_init__(self) -> None:
        if self.evolve_in_place is not None and self.derive is not None:
            raise ValueError(f"{self.name}: derived documents need evolve to copy, not change")
        if bool(self.purged_by) != (self.purge is not None):
            raise ValueError(f"{self.name}: purged_by and purge go together")

    @property
    def event_types(self) -> list[str]:
        """What the runner reads: the events it folds, and those it purges on."""
        return [cls.event_type for cls in (*self.handles, *self.purged_by)]

    @property
    def folded_types(self) -> list[str]:
        return [cls.event_type for cls in self.handles]

    def split(self, events: list[RecordedEvent]) -> tuple[list[RecordedEvent], list[Purge]]:
        """The events to fold, and the purges the others ask for, in order."""
        if not self.purged_by:
            return events, []
        assert self.purge is not None
        folded = [e for e in events if not isinstance(e.event, self.purged_by)]
        if len(folded) == len(events):
            return events, []
        return folded, [self.purge(e) for e in events if isinstance(e.event, self.purged_by)]

    @property
    def fingerprint(self) -> str:
        """What the stored read model was built by: version and the events it handles."""
        return f"v{self.version}:" + ",".join(sorted(self.event_types))


def fold(
    projection: Projection,
    docs: Mapping[str, Doc | None],
    events: list[RecordedEvent],
    keys: list[str] | None = None,
) -> dict[str, Doc | None]:
    """Apply a batch to the documents it touches; return only the changed ones.

    ``docs`` is read, never copied or changed; ``keys`` (one per event) may be given when the
    caller already worked them out.

    Derived documents come first in the answer, before the documents they follow from: a
    store that writes in order (MongoDB) and stops half way then still has the old document,
    so the events are applied again and its derived documents written again. A derived
    document left unchanged by an event is not written.
    """
    folding = Folding()
    folding.add(docs)
    folding.apply(projection, events, keys or [projection.key(e) for e in events])
    return folding.take()


class Folding:
    """Documents as ``evolve`` sees them, each with the position it reflects, kept apart.

    Keeping the position beside the document, not in it, spares copying every document
    twice per event (once to hide the position from ``evolve``, once to put it back): a
    rebuild folds a million events through here.

    ``owned``: nothing outside holds the documents, so a projection's ``evolve_in_place``
    may change them. Those given to ``add`` and ``merge`` become the folding's; those
    ``take`` hands out still share parts with it, and must be written before it folds on.
    """

    def __init__(self, *, owned: bool = False) -> None:
        self.owned = owned
        self.docs: dict[str, Doc | None] = {}
        self.positions: dict[str, int] = {}
        self.changed: dict[str, None] = {}
        self.derived: dict[str, Doc | None] = {}

    def add(self, docs: Mapping[str, Doc | None]) -> None:
        """Documents as the read-model store holds them (with their position)."""
        for key, doc in docs.items():
            if doc is None:
                self.docs[key] = None
            else:
                self.docs[key] = _public(doc)
                self.positions[key] = doc.get(POSITION, 0)

    def apply(self, projection: Projection, events: list[RecordedEvent], keys: list[str]) -> None:
        evolve, derive = projection.evolve, projection.derive
        if self.owned and projection.evolve_in_place is not None:
            evolve = projection.evolve_in_place  # never with derive (Projection checks)
        docs, positions, changed = self.docs, self.positions, self.changed
        for event, key in zip(events, keys, strict=True):
            position = event.position
            if positions.get(key, 0) >= position:
                continue  # this document already holds this event
            old = docs.get(key)
            new = evolve(old, event)
            if new is None and old is None:
                continue  # nothing was, nothing is: an event a projection skips
            docs[key] = new
            positions[key] = position
            changed[key] = None
            if derive is not None:
                _rederive(derive, key, old, new, position, self.derived)

    def take(self) -> dict[str, Doc | None]:
        """The changes since the last take, as the read-model store writes them."""
        changes: dict[str, Doc | None] = {}
        for key in self.changed:
            doc = self.docs[key]
            changes[key] = None if doc is None else {**doc, POSITION: self.positions[key]}
        if self.derived:
            changes = {**self.derived, **changes}
        self.changed, self.derived = {}, {}
        return changes

    def merge(
        self, merge: Merge, docs: Mapping[str, Doc | None], positions: Mapping[str, int]
    ) -> None:
        """Documents folded from nothing over the events right after those held here."""
        held = self.docs
        for key, later in docs.items():
            if later is None:
                raise ValueError(f"document {key!r} was deleted: deletions cannot be merged")
            earlier = held.get(key)
            held[key] = later if earlier is None else merge(earlier, later)
            self.positions[key] = positions[key]
            self.changed[key] = None

    def forget(self) -> None:
        """Drop what is held (all of it written): bounded memory on very large logs."""
        self.docs.clear()
        self.positions.clear()


def _rederive(
    derive: Derive,
    key: str,
    old: Doc | None,
    new: Doc | None,
    position: int,
    derived: dict[str, Doc | None],
) -> None:
    before = {} if old is None else derive(key, old)
    after = {} if new is None else derive(key, new)
    for gone in before.keys() - after.keys():
        derived[gone] = None
    for derived_key, doc in after.items():
        if before.get(derived_key) != doc:
            derived[derived_key] = {**doc, POSITION: position}


def _public(doc: Doc) -> Doc:
    return {k: v for k, v in doc.items() if k != POSITION}


def strip(doc: Doc | None) -> Doc | None:
    """A read-model document as queries should see it."""
    return None if doc is None else _public(doc)


async def _ensure_indexes(projection: Projection, readmodels: ReadModelStore) -> None:
    for fields in projection.indexes:
        await readmodels.ensure_index(projection.name, fields)


async def _ensure_generation(readmodels: ReadModelStore, name: str) -> int:
    generation = await readmodels.active_generation(name)
    if generation is None:
        generation = await readmodels.start_generation(name)
        await readmodels.activate(name, generation)
    return generation


LIVE_CACHE = 50_000
"""Documents a live runner keeps as it last wrote them, so a hot document (this week's
total of a pupil given points all day) is not read back before each change."""


async def _apply(
    projection: Projection,
    readmodels: ReadModelStore,
    generation: int,
    batch: Batch,
    cache: dict[str, Doc | None],
) -> bool:
    """Fold a batch into the documents it touches and commit them with the checkpoint.

    ``cache`` holds documents as this runner last committed them (``None``: known absent);
    only the others are loaded. Every runner of a projection folds every event in order,
    so what it wrote is what the store holds, until a rebuild swaps the generation (the
    commit then fails, and the caller drops the cache).
    """
    events, purges = projection.split(batch.events)
    keys = [projection.key(e) for e in events]
    missing = {k for k in keys if k not in cache}
    docs = {k: cache[k] for k in keys if k in cache}
    if missing:
        loaded = await readmodels.load(projection.name, generation, missing)
        docs.update({k: loaded.get(k) for k in missing})
    changes = fold(projection, docs, events, keys)
    if purges:
        # written, purged, and only then past: a crash in between purges again
        if not await readmodels.commit(projection.name, generation, changes, None):
            return False
        await _purge(projection, readmodels, purges)
        cache.clear()
        return await readmodels.commit(projection.name, generation, {}, batch.up_to)
    ok = await readmodels.commit(projection.name, generation, changes, batch.up_to)
    if ok:
        metrics.PROJECTION_EVENTS.labels(projection.name).inc(len(batch.events))
        if len(cache) + len(docs) > LIVE_CACHE:
            cache.clear()
        cache.update({k: docs[k] for k in missing})
        cache.update(changes)
    return ok


async def _purge(projection: Projection, readmodels: ReadModelStore, purges: list[Purge]) -> None:
    for where, before in purges:
        purged = await readmodels.purge(projection.name, where, before=before)
        log.info("projection.purged", projection=projection.name, documents=purged)


FINGERPRINTS = "kit.projection_fingerprints"
"""Plain state (generation 0): for each projection, the fingerprint its read model has."""


async def _rebuild_if_changed(
    projection: Projection, store: EventStore, readmodels: ReadModelStore, workers: int
) -> None:
    """A new release may fold events differently, or follow new ones: a read model built by
    an older release is rebuilt from position 0 and swapped in before the runner goes on."""
    stored = (await readmodels.load(FINGERPRINTS, 0, [projection.name])).get(projection.name)
    if stored is not None and stored.get("fingerprint") == projection.fingerprint:
        return
    generation = await readmodels.active_generation(projection.name)
    built = generation is not None and await readmodels.checkpoint(projection.name, generation)
    if built:
        log.info(
            "projection.definition_changed",
            projection=projection.name,
            was=None if stored is None else stored.get("fingerprint"),
            now=projection.fingerprint,
        )
        await rebuild(projection, store, readmodels, workers=workers)
    await readmodels.commit(
        FINGERPRINTS, 0, {projection.name: {"fingerprint": projection.fingerprint}}, None
    )


async def run_projection(
    projection: Projection,
    store: EventStore,
    readmodels: ReadModelStore,
    *,
    batch_size: int = 2000,
    caught_up: asyncio.Event | None = None,
    rebuild_workers: int = 0,
) -> None:
    """Keep the active generation of ``projection`` up to date, forever.

    ``rebuild_workers``: for the rebuild a changed definition needs (see ``rebuild``).
    """
    await _ensure_indexes(projection, readmodels)
    await _rebuild_if_changed(projection, store, readmodels, rebuild_workers)
    while True:
        generation = await _ensure_generation(readmodels, projection.name)
        checkpoint = await readmodels.checkpoint(projection.name, generation)
        log.info(
            "projection.start",
            projection=projection.name,
            generation=generation,
            checkpoint=checkpoint,
        )
        cache: dict[str, Doc | None] = {}
        async for batch in store.subscribe(
            after=checkpoint, types=projection.event_types, batch_size=batch_size
        ):
            if not await _apply(projection, readmodels, generation, batch, cache):
                log.info("projection.generation_replaced", projection=projection.name)
                break  # a rebuild swapped in a new generation: follow it
            if batch.caught_up:
                metrics.PROJECTION_LAG.labels(projection.name).set(0)
                if caught_up is not None:
                    caught_up.set()
            else:
                head = await store.head()
                metrics.PROJECTION_LAG.labels(projection.name).set(max(head - batch.up_to, 0))


async def _hold(
    folding: Folding, readmodels: ReadModelStore, name: str, generation: int, keys: Iterable[str]
) -> None:
    """Load the stored documents of those keys ``folding`` does not hold (``None``: none)."""
    missing = set(keys) - folding.docs.keys()
    if missing:
        folding.add(await readmodels.load(name, generation, missing))
        folding.docs.update(dict.fromkeys(missing - folding.docs.keys()))


async def catch_up(
    projection: Projection,
    store: EventStore,
    readmodels: ReadModelStore,
    generation: int,
    *,
    batch_size: int = 5000,
    commit_every: int = 100_000,
    fresh: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Bring one generation up to the head of the log as it is now; return its checkpoint.

    Documents stay in memory between pages and are written every ``commit_every`` events:
    a rebuild touches each document many times, and writing it once per page made the
    writes cost more than everything else. The next page is read while this one is
    folded. ``fresh`` says the generation was just started, so holds nothing to look up.
    """
    target = await store.head()
    position = await readmodels.checkpoint(projection.name, generation)
    folding = Folding(owned=True)  # its own folds, or just loaded: nobody else holds them
    folded = 0

    def read(after: int) -> asyncio.Task[Batch]:
        return asyncio.create_task(
            store.read_all(after=after, limit=batch_size, types=projection.event_types)
        )

    reading = read(position) if position < target else None
    try:
        with _cyclic_gc_paused():
            while reading is not None:
                batch = await reading
                position = batch.up_to
                done = batch.caught_up or position >= target
                reading = None if done else read(position)
                events, purges = projection.split(batch.events)
                keys = [projection.key(e) for e in events]
                if not fresh:
                    await _hold(folding, readmodels, projection.name, generation, keys)
                folding.apply(projection, events, keys)
                folded += len(batch.events)
                if purges or folded >= commit_every or done:
                    changes = folding.take()
                    # with purges: written, purged, and only then past (a crash purges again)
                    at = None if purges else position
                    if not await readmodels.commit(projection.name, generation, changes, at):
                        raise RuntimeError(f"generation {generation} of {projection.name} vanished")
                    if purges:
                        await _purge(projection, readmodels, purges)
                        await readmodels.commit(projection.name, generation, {}, position)
                    metrics.PROJECTION_EVENTS.labels(projection.name).inc(folded)
                    folded = 0
                    if purges or len(folding.docs) > HELD_DOCUMENTS:
                        folding.forget()  # purged documents must not be written again
                        fresh = False  # forgotten documents are in the store now
                if progress is not None:
                    progress(position, target)
    finally:
        if reading is not None:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading
    return position


Part = tuple[dict[str, Doc | None], dict[str, int], int]
"""A part of the log folded from nothing: its documents, their positions, events folded."""


def _fold_part(
    projection: Projection,
    reader: LogReader,
    after: int,
    up_to: int,
    batch_size: int,
    progress: Callable[[int], None] | None = None,
) -> Part:
    """Fold the events after ``after`` up to ``up_to``, from nothing; ``progress`` is told
    the position reached after each page."""
    folding = Folding(owned=True)
    key = projection.key
    folded = 0
    for events in reader.pages(
        after=after, up_to=up_to, types=projection.folded_types, batch_size=batch_size
    ):
        folding.apply(projection, events, [key(e) for e in events])
        folded += len(events)
        if progress is not None:
            progress(events[-1].position)
    return folding.docs, folding.positions, folded


def _fold_part_elsewhere(
    projection: Projection, reader: LogReader, after: int, up_to: int, batch_size: int
) -> Part:
    """``_fold_part`` in a pool's process, which runs one part at a time."""
    with _cyclic_gc_paused():
        return _fold_part(projection, reader, after, up_to, batch_size)


def _parts(after: int, up_to: int, count: int) -> list[tuple[int, int]]:
    """``count`` position ranges covering ``after < p <= up_to``; the first is this
    process's own, and longer (``OWN_HEAD_START``)."""
    span = up_to - after
    own = span * (1 + OWN_HEAD_START * (count - 1)) / count
    rest = (span - own) / max(count - 1, 1)
    bounds = [after] + [after + round(own + rest * i) for i in range(count)]
    bounds[-1] = up_to
    return [(lo, hi) for lo, hi in itertools.pairwise(bounds) if hi > lo]


def _round_progress(
    progress: Callable[[int, int], None] | None,
    own: tuple[int, int],
    round_: tuple[int, int],
    target: int,
) -> Callable[[int], None] | None:
    """For this process's part, run in a thread: the round's progress, taken to be the
    part's (the parts go at about the same pace), handed to the event loop's thread."""
    if progress is None:
        return None
    loop = asyncio.get_running_loop()
    (part_start, part_end), (start, end) = own, round_

    def told(at: int) -> None:
        share = (at - part_start) / max(part_end - part_start, 1)
        loop.call_soon_threadsafe(progress, start + round(share * (end - start)), target)

    return told


def _submit(pool: Pool, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
    """Run ``fn(*args)`` in one of the pool's processes; its outcome as an awaitable."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(value: Any = None, error: BaseException | None = None) -> None:
        if future.done():
            return  # cancelled: nobody waits for it any more
        if error is None:
            future.set_result(value)
        else:
            future.set_exception(error)

    pool.apply_async(
        fn,
        args,
        callback=lambda value: loop.call_soon_threadsafe(settle, value),
        error_callback=lambda error: loop.call_soon_threadsafe(settle, None, error),
    )
    return future


def _pool(processes: int) -> Pool | None:
    """Processes for a rebuild's other parts; None, and a warning, where none can start
    (no semaphores without a writable /dev/shm, a process limit): one process will do.
    Spawned, not forked: this process has threads."""
    try:
        return multiprocessing.get_context("spawn").Pool(processes)
    except OSError as exc:
        log.warning("projection.rebuild_in_one_process", reason=str(exc))
        return None


async def _fold_in_parts(
    projection: Projection,
    store: EventStore,
    reader: LogReader,
    readmodels: ReadModelStore,
    generation: int,
    *,
    pool: Pool,
    workers: int,
    batch_size: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    """``catch_up`` of a fresh generation, the log cut into parts folded side by side.

    Each round of the log is cut into one part per process. This process folds the first
    part in a thread (the event loop stays free) while the pool's processes fold the
    others, each reading the log itself; the parts are merged in order and written with
    the round's end as checkpoint. The pool is closed here.
    """
    assert projection.merge is not None
    merge = projection.merge
    target = await store.head()
    position = 0
    folding = Folding()
    fresh = True
    try:
        with _cyclic_gc_paused():
            while position < target:
                end = min(target, position + PART_ROUND)
                own, *others = _parts(position, end, workers)
                theirs = [
                    _submit(pool, _fold_part_elsewhere, projection, reader, lo, hi, batch_size)
                    for lo, hi in others
                ]
                told = _round_progress(progress, own, (position, end), target)
                try:
                    mine = await asyncio.to_thread(
                        _fold_part, projection, reader, own[0], own[1], batch_size, told
                    )
                    parts = [mine, *await asyncio.gather(*theirs)]
                finally:
                    for future in theirs:
                        future.cancel()  # only those not done: a failure ends the others
                if not fresh:
                    keys = itertools.chain.from_iterable(docs for docs, _, _ in parts)
                    await _hold(folding, readmodels, projection.name, generation, keys)
                for docs, positions, _ in parts:
                    folding.merge(merge, docs, positions)
                if not await readmodels.commit(projection.name, generation, folding.take(), end):
                    raise RuntimeError(f"generation {generation} of {projection.name} vanished")
                metrics.PROJECTION_EVENTS.labels(projection.name).inc(
                    sum(folded for _, _, folded in parts)
                )
                if len(folding.docs) > HELD_DOCUMENTS:
                    folding.forget()
                    fresh = False  # forgotten documents are in the store now
                position = end
                if progress is not None:
                    progress(position, target)
        pool.close()
        await asyncio.to_thread(pool.join)
    finally:
        pool.terminate()  # parts still running after a failure or a cancellation


_gc_pauses = 0


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """No cycle collection while a rebuild holds many documents in memory.

    Each collection walks every live document; during a replay that cost a third of the
    time. Objects are still freed by reference counting; cycles wait until the last
    rebuild in this process ends. Reentrant, as projections rebuild side by side.
    """
    global _gc_pauses
    if _gc_pauses == 0:
        gc.disable()
    _gc_pauses += 1
    try:
        yield
    finally:
        _gc_pauses -= 1
        if _gc_pauses == 0:
            gc.enable()


HELD_DOCUMENTS = 500_000
"""Documents a rebuild holds in memory between writes; past this it writes and forgets
them, and loads those it meets again."""
PARALLEL_FROM = 200_000
"""Below this many events in the log a rebuild stays in one process: starting another
(Python, pydantic, the contracts) costs about what folding 50,000 events does."""
PART_ROUND = 2_000_000
"""Positions folded side by side before the merged documents are written: bounds memory."""
OWN_HEAD_START = 0.1
"""How much more of each round this process folds, per other process: it starts at once,
the others only once they have started and imported what they fold with."""


def rebuild_workers() -> int:
    """Processes a rebuild folds in by default: one per CPU this process may use, up to 4."""
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return max(1, min(4, len(usable) if usable else os.cpu_count() or 1))


async def rebuild(
    projection: Projection,
    store: EventStore,
    readmodels: ReadModelStore,
    *,
    batch_size: int = 5000,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 0,
    parallel_from: int = PARALLEL_FROM,
) -> int:
    """Build a fresh generation from position 0 and swap it in once it has caught up.

    A projection with ``merge`` over a store other processes can read (``SharedLog``) is
    folded in ``workers`` processes (0: ``rebuild_workers()``, as
    ``SCHOOLGATE_REBUILD_WORKERS`` says) once the log holds ``parallel_from`` events;
    otherwise in this one.
    """
    await _ensure_indexes(projection, readmodels)
    generation = await readmodels.start_generation(projection.name)
    workers = workers or rebuild_workers()
    reader = store.log_reader() if isinstance(store, SharedLog) else None
    parallel = (
        workers > 1
        and reader is not None
        and projection.merge is not None
        and projection.derive is None
        and await store.head() >= parallel_from
    )
    pool = _pool(workers - 1) if parallel else None
    if pool is not None:
        assert reader is not None
        await _fold_in_parts(
            projection,
            store,
            reader,
            readmodels,
            generation,
            pool=pool,
            workers=workers,
            batch_size=batch_size,
            progress=progress,
        )
    else:
        await catch_up(
            projection,
            store,
            readmodels,
            generation,
            batch_size=batch_size,
            fresh=True,
            progress=progress,
        )
    # events that arrived during the rebuild: one more pass, then swap
    await catch_up(projection, store, readmodels, generation, batch_size=batch_size)
    await readmodels.activate(projection.name, generation)
    log.info("projection.rebuilt", projection=projection.name, generation=generation)
    return generation
