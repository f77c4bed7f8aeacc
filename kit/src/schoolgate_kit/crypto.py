"""Personal data in the event log, encrypted per person: erasing someone destroys their key.

Each subject (a pupil, a parent, a member of staff, or a record such as a story that is
erased on its own) has a data key, made when the first personal value about them is
written. The key is kept in the private store (``KeyStore``), never in the log, wrapped by
the deployment's master key. The store writes every value the contracts mark personal
(``schoolgate_contracts.privacy``) as ``{"$sealed": key id, "box": ...}``: AES-256-GCM,
a fresh nonce per value, the key id as associated data.

Erasing a subject replaces their keys by tombstones: from then on every read of those
values gives the contract's placeholder (``removed``), a rebuild from position 0 gives
the same, and a value written about them afterwards is written as the placeholder. A
tombstone is never undone, so a key is never made again for an erased subject.

Keys are cached in each process, a bounded number (``cache_size``) for a bounded time
(``ttl``), so an erasure made by another process is seen there within ``ttl``; the
process that erases forgets at once.

Key ids are ``<school>/<kind>/<id>``: a record's id is only unique within its school.
A person's ids are made unique across a district, and erasing a person erases their keys
in every school (a parent with children in two schools).
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from schoolgate_contracts import Event, NewEvent
from schoolgate_contracts.privacy import Sealed, sealing_plan

SEALED = "$sealed"
BOX = "box"
NONCE = 12
ERASED = b""
"""A tombstone's key: the subject was erased."""


class KeyStore(Protocol):
    """Where data keys are kept, wrapped. Synchronous: a read happens while decoding an
    event, which is synchronous code, and only on a cache miss."""

    def find(self, key_ids: Collection[str]) -> dict[str, bytes]:
        """The wrapped keys stored at these ids (``ERASED`` for a tombstone); an id never
        stored is absent."""
        ...

    def create(self, keys: Mapping[str, tuple[str, bytes]]) -> dict[str, bytes]:
        """Store each ``key id: (subject, wrapped)`` not stored yet; answer what is stored
        at each afterwards (of racing writers, the first one's, or a tombstone)."""
        ...

    def erase(self, subject: str, *, school_id: str | None) -> list[str]:
        """Replace every key of ``subject`` (``<kind>/<id>``), in one school or in all, by
        a tombstone, so its bytes are gone from the store; the key ids erased."""
        ...

    def close(self) -> None: ...


class Keyring:
    """Seals and opens personal values with subjects' data keys, made and found on demand."""

    def __init__(
        self,
        master_secret: str,
        store: KeyStore,
        *,
        cache_size: int = 4096,
        ttl: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if len(master_secret) < 32:
            raise ValueError("the master key must be at least 32 characters")
        self._secret = master_secret
        self._master = AESGCM(_derive(master_secret))
        self.store = store
        self._cache: OrderedDict[str, tuple[float, AESGCM | None]] = OrderedDict()
        self._cache_size = cache_size
        self._ttl = ttl
        self._monotonic = monotonic
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple[Any, ...]:
        """Sent to another process (a rebuild's), it opens its own store and cache there."""
        return (_keyring, (self._secret, self.store, self._cache_size, self._ttl))

    # -- writing --------------------------------------------------------------------------

    def key_ids(self, news: Iterable[NewEvent]) -> set[str]:
        """The keys these events' personal values are sealed with."""
        wanted: set[str] = set()
        for new in news:
            plan = sealing_plan(type(new.event))
            for sealed in plan:
                wanted.add(_key_id(new.metadata.school_id, sealed, new.event))
        return wanted

    def uncached(self, key_ids: Iterable[str]) -> list[str]:
        now = self._monotonic()
        with self._lock:
            return [k for k in key_ids if not self._fresh(k, now)]

    def load(self, key_ids: Collection[str], *, create: bool) -> None:
        """Bring these keys into the cache, making those never made (when ``create``).
        Blocking: a caller on an event loop runs it in a thread."""
        if not key_ids:
            return
        found = self.store.find(key_ids)
        if create:
            missing = [k for k in key_ids if k not in found]
            if missing:
                made = {k: (_subject(k), self._wrap(k, AESGCM.generate_key(256))) for k in missing}
                found.update(self.store.create(made))
        now = self._monotonic()
        with self._lock:
            for key_id in key_ids:
                wrapped = found.get(key_id)
                if wrapped is None:
                    continue  # never made: not cached, so a later write makes it
                self._remember(
                    key_id, None if wrapped == ERASED else self._unwrap(key_id, wrapped), now
                )

    def seal(self, new: NewEvent) -> str:
        """The event's payload as stored: its personal values sealed."""
        return self.seal_event(new.event, new.metadata.school_id)

    def seal_event(self, event: Event, school_id: str) -> str:
        plan = sealing_plan(type(event))
        if not plan:
            return event.model_dump_json()
        payload = event.model_dump(mode="json")
        for sealed in plan:
            key_id = _key_id(school_id, sealed, event)
            aead = self._key(key_id, create=True)

            def box(
                value: Any,
                key_id: str = key_id,
                aead: AESGCM | None = aead,
                sealed: Sealed = sealed,
            ) -> Any:
                if aead is None:
                    return sealed.removed  # erased already: nothing of theirs is written
                nonce = os.urandom(NONCE)
                secret = aead.encrypt(nonce, _plain(value), key_id.encode())
                return {SEALED: key_id, BOX: base64.b64encode(nonce + secret).decode()}

            _replace(payload, sealed.path, box)
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))

    # -- reading --------------------------------------------------------------------------

    def open(self, cls: type[Event], payload: dict[str, Any]) -> None:
        """Open the payload's sealed values in place; an erased subject's read as the
        contract's placeholder. Values stored before encryption are left as they are."""
        for sealed in sealing_plan(cls):
            whose = f"/{sealed.kind}/{payload.get(sealed.subject)}"

            def unbox(value: Any, sealed: Sealed = sealed, whose: str = whose) -> Any:
                if not (isinstance(value, dict) and SEALED in value):
                    return value
                key_id = value[SEALED]
                if not (isinstance(key_id, str) and key_id.endswith(whose)):
                    # sealed for someone else: moved here from another event
                    raise ValueError(f"a value sealed for {key_id!r} in an event about {whose}")
                aead = self._key(key_id, create=False)
                if aead is None:
                    return sealed.removed
                try:
                    raw = base64.b64decode(value[BOX])
                    return json.loads(aead.decrypt(raw[:NONCE], raw[NONCE:], key_id.encode()))
                except (InvalidTag, TypeError, KeyError, ValueError) as exc:
                    raise ValueError(f"a sealed value under {key_id} does not open") from exc

            _replace(payload, sealed.path, unbox)

    # -- erasing --------------------------------------------------------------------------

    def erase(self, kind: str, subject_id: str, *, school_id: str | None = None) -> list[str]:
        """Destroy the subject's keys (in one school, or in every school for a person)."""
        erased = self.store.erase(f"{kind}/{subject_id}", school_id=school_id)
        now = self._monotonic()
        with self._lock:
            for key_id in erased:
                self._remember(key_id, None, now)
        return erased

    # -- keys -----------------------------------------------------------------------------

    def _key(self, key_id: str, *, create: bool) -> AESGCM | None:
        now = self._monotonic()
        with self._lock:
            if self._fresh(key_id, now):
                self._cache.move_to_end(key_id)
                return self._cache[key_id][1]
        self.load([key_id], create=create)
        with self._lock:
            held = self._cache.get(key_id)
        return None if held is None else held[1]

    def _fresh(self, key_id: str, now: float) -> bool:
        held = self._cache.get(key_id)
        # a tombstone is forever; a key may have been erased by another process since
        return held is not None and (held[1] is None or now - held[0] < self._ttl)

    def _remember(self, key_id: str, aead: AESGCM | None, now: float) -> None:
        self._cache[key_id] = (now, aead)
        self._cache.move_to_end(key_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _wrap(self, key_id: str, key: bytes) -> bytes:
        nonce = os.urandom(NONCE)
        return nonce + self._master.encrypt(nonce, key, b"datakey:" + key_id.encode())

    def _unwrap(self, key_id: str, wrapped: bytes) -> AESGCM:
        key = self._master.decrypt(wrapped[:NONCE], wrapped[NONCE:], b"datakey:" + key_id.encode())
        return AESGCM(key)


def _derive(secret: str) -> bytes:
    """A 256-bit key from the deployment's master secret (any long random string)."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"schoolgate master key v1"
    ).derive(secret.encode())


def _key_id(school_id: str, sealed: Sealed, event: Event) -> str:
    subject = getattr(event, sealed.subject)
    return f"{school_id}/{sealed.kind}/{subject}"


def _subject(key_id: str) -> str:
    return key_id.split("/", 1)[1]


def _plain(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _replace(node: Any, path: Sequence[str], change: Callable[[Any], Any]) -> None:
    """Replace the value at ``path`` (``*``: every item of a list) by ``change(value)``."""
    step, rest = path[0], path[1:]
    if step == "*":
        if isinstance(node, list):
            for index, item in enumerate(node):
                if rest:
                    _replace(item, rest, change)
                else:
                    node[index] = change(item)
        return
    if not isinstance(node, dict) or step not in node:
        return
    if rest:
        _replace(node[step], rest, change)
    elif node[step] is not None:
        node[step] = change(node[step])


def _keyring(secret: str, store: KeyStore, cache_size: int, ttl: float) -> Keyring:
    return Keyring(secret, store, cache_size=cache_size, ttl=ttl)
