"""Personal data in the event log, encrypted per person: erasing someone destroys their key.

Each subject (a pupil, a parent, a member of staff, or a record such as a story that is
erased on its own) has a data key, made when the first personal value about them is
written. The key is kept in the private store (``KeyStore``), never in the log, wrapped by
the deployment's master key. The store writes every value the contracts mark personal
(``schoolgate_contracts.privacy``) as ``{"$sealed": key id, "box": ...}``: AES-256-GCM,
a fresh nonce per value, the key id as associated data. A value marked ``stable`` is
sealed as ``{"$sealed": key id, "siv": ...}`` instead: AES-SIV (deterministic, under a key
derived from the data key), so each distinct box is decrypted once per cached key and
then looked up.

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
from functools import cache
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from schoolgate_contracts import Event, NewEvent
from schoolgate_contracts.privacy import Sealed, sealing_plan

SEALED = "$sealed"
BOX = "box"
SIV = "siv"
OPENED_PER_KEY = 4096
"""Stable values remembered sealed and opened, per cached key: a week's awards to one
school's pupils."""
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

    def held_before(self, school_id: str, kind: str, before: str) -> list[str]:
        """The ids of this school's subjects of ``kind`` whose keys are held (not erased)
        and whose id sorts before ``before``: records named by date, past their time."""
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
        self._cache: OrderedDict[str, tuple[float, _DataKey | None]] = OrderedDict()
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
            data_key = self._key(key_id, create=True)

            def box(
                value: Any,
                key_id: str = key_id,
                data_key: _DataKey | None = data_key,
                sealed: Sealed = sealed,
            ) -> Any:
                if data_key is None:
                    return sealed.removed  # erased already: nothing of theirs is written
                if sealed.stable:
                    return {SEALED: key_id, SIV: data_key.seal_stable(value, key_id)}
                nonce = os.urandom(NONCE)
                secret = data_key.gcm.encrypt(nonce, _plain(value), key_id.encode())
                return {SEALED: key_id, BOX: base64.b64encode(nonce + secret).decode()}

            _replace(payload, sealed.path, box)
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))

    # -- reading --------------------------------------------------------------------------

    def open(self, cls: type[Event], payload: dict[str, Any]) -> None:
        """Open the payload's sealed values in place; an erased subject's read as the
        contract's placeholder. Values stored before encryption are left as they are."""
        for sealed in sealing_plan(cls):
            whose = f"/{sealed.kind}/{payload.get(sealed.subject)}"
            if len(sealed.path) == 1:  # a field of the event itself: most, and every award
                name = sealed.path[0]
                value = payload.get(name)
                if type(value) is dict:
                    payload[name] = self._unbox(value, sealed, whose)
                continue

            def unbox(value: Any, sealed: Sealed = sealed, whose: str = whose) -> Any:
                return self._unbox(value, sealed, whose) if type(value) is dict else value

            _replace(payload, sealed.path, unbox)

    def open_text(self, cls: type[Event], data: bytes | str) -> str:
        """``open`` for a type whose values all open as text (``opens_as_text``): the stored
        text with each stable box replaced by the value's JSON, remembered per box. Found by
        plain string search, as ``seal_event`` writes boxes: a replay runs this per event."""
        text = data.decode() if isinstance(data, bytes) else data
        for sealed, field, opening, subject in _text_plan(cls):
            start = text.find(opening)
            if start < 0:
                continue  # stored before encryption (or null): it loads as it is
            key_from = start + len(opening)
            key_to = text.find(_BETWEEN, key_from)
            box_from = key_to + len(_BETWEEN)
            box_to = text.find('"}', box_from)
            if key_to < 0 or box_to < 0:
                raise ValueError("a sealed value written otherwise")  # the slow way reads it
            key_id, box = text[key_from:key_to], text[box_from:box_to]
            data_key = self._key(key_id, create=False)
            if data_key is None:
                named, plain = _named(key_id, sealed, subject), json.dumps(sealed.removed)
            else:
                found = data_key.named.get(subject)
                if found is None:
                    found = data_key.named[subject] = _named(key_id, sealed, subject)
                named = found
                try:
                    plain = data_key.open_stable_text(box, key_id)
                except (InvalidTag, ValueError) as exc:
                    raise ValueError(f"a sealed value under {key_id} does not open") from exc
            if named not in text:
                raise ValueError(f"a value sealed for {key_id!r} in another event")
            text = text[: start + len(field)] + plain + text[box_to + 2 :]
        return text

    def _unbox(self, value: dict[str, Any], sealed: Sealed, whose: str) -> Any:
        key_id = value.get(SEALED)
        if key_id is None:
            return value  # not sealed: a value stored before encryption
        if not (isinstance(key_id, str) and key_id.endswith(whose)):
            # sealed for someone else: moved here from another event
            raise ValueError(f"a value sealed for {key_id!r} in an event about {whose}")
        data_key = self._key(key_id, create=False)
        if data_key is None:
            return sealed.removed
        try:
            stable = value.get(SIV)
            if stable is not None:
                return data_key.open_stable(stable, key_id)
            raw = base64.b64decode(value[BOX])
            return json.loads(data_key.gcm.decrypt(raw[:NONCE], raw[NONCE:], key_id.encode()))
        except (InvalidTag, TypeError, KeyError, ValueError) as exc:
            raise ValueError(f"a sealed value under {key_id} does not open") from exc

    # -- erasing --------------------------------------------------------------------------

    def erase(self, kind: str, subject_id: str, *, school_id: str | None = None) -> list[str]:
        """Destroy the subject's keys (in one school, or in every school for a person)."""
        erased = self.store.erase(f"{kind}/{subject_id}", school_id=school_id)
        now = self._monotonic()
        with self._lock:
            for key_id in erased:
                self._remember(key_id, None, now)
        return erased

    def erase_before(self, kind: str, before: str, *, school_id: str) -> list[str]:
        """Destroy this school's keys of ``kind`` whose subject id sorts before ``before``
        (records named by date: a week's points); the subject ids erased, in order."""
        subjects = self.store.held_before(school_id, kind, before)
        for subject_id in subjects:
            self.erase(kind, subject_id, school_id=school_id)
        return sorted(subjects)

    # -- keys -----------------------------------------------------------------------------

    def _key(self, key_id: str, *, create: bool) -> _DataKey | None:
        now = self._monotonic()
        # a replay asks for one key per event: a fresh one is answered without the lock (a
        # dict read is atomic) and without reordering, so the bound evicts by age of load
        held = self._cache.get(key_id)
        if held is not None and (held[1] is None or now - held[0] < self._ttl):
            return held[1]
        self.load([key_id], create=create)
        with self._lock:
            held = self._cache.get(key_id)
        return None if held is None else held[1]

    def _fresh(self, key_id: str, now: float) -> bool:
        held = self._cache.get(key_id)
        # a tombstone is forever; a key may have been erased by another process since
        return held is not None and (held[1] is None or now - held[0] < self._ttl)

    def _remember(self, key_id: str, data_key: _DataKey | None, now: float) -> None:
        self._cache[key_id] = (now, data_key)
        self._cache.move_to_end(key_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _wrap(self, key_id: str, key: bytes) -> bytes:
        nonce = os.urandom(NONCE)
        return nonce + self._master.encrypt(nonce, key, b"datakey:" + key_id.encode())

    def _unwrap(self, key_id: str, wrapped: bytes) -> _DataKey:
        key = self._master.decrypt(wrapped[:NONCE], wrapped[NONCE:], b"datakey:" + key_id.encode())
        return _DataKey(key)


class _DataKey:
    """One subject's data key as a process holds it: AES-GCM for values sealed one by one,
    AES-SIV (under a key derived from it) for stable values, and the stable values sealed
    and opened so far (as text both ways), which go with the key when it leaves the cache
    or is erased."""

    __slots__ = ("_boxes", "_raw", "_siv", "_texts", "gcm", "named")

    def __init__(self, raw: bytes) -> None:
        self.gcm = AESGCM(raw)
        self._raw = raw
        self._siv: AESSIV | None = None
        self._boxes: dict[bytes, str] = {}
        """A stable value's JSON text -> its box."""
        self._texts: dict[str, str] = {}
        """A stable box -> its value's JSON text."""
        self.named: dict[str, str] = {}
        """Per field naming whose a stable value is: the text an event opened with this key
        must hold (``open_text``), made once."""

    def siv(self) -> AESSIV:
        if self._siv is None:
            derived = HKDF(
                algorithm=hashes.SHA256(), length=64, salt=None, info=b"schoolgate stable v1"
            ).derive(self._raw)
            self._siv = AESSIV(derived)
        return self._siv

    def seal_stable(self, value: Any, key_id: str) -> str:
        plain = _plain(value)
        box = self._boxes.get(plain)
        if box is None:
            box = base64.b64encode(self.siv().encrypt(plain, [key_id.encode()])).decode()
            _remember(self._boxes, plain, box)
        return box

    def open_stable_text(self, box: str, key_id: str) -> str:
        """The value's JSON text: sealed as compact JSON (``_plain``), it is what opens."""
        text = self._texts.get(box)
        if text is None:
            text = self.siv().decrypt(base64.b64decode(box), [key_id.encode()]).decode()
            _remember(self._texts, box, text)
        return text

    def open_stable(self, box: str, key_id: str) -> Any:
        return json.loads(self.open_stable_text(box, key_id))


def _remember(memo: dict[Any, Any], key: Any, value: Any) -> None:
    if len(memo) >= OPENED_PER_KEY:
        memo.clear()  # a bound, not a policy: the next values fill it again
    memo[key] = value


_BETWEEN = f'","{SIV}":"'


def _named(key_id: str, sealed: Sealed, subject: str) -> str:
    """What an event's text says when its value sealed under ``key_id`` belongs there."""
    return f'{subject}"{key_id.rpartition(f"/{sealed.kind}/")[2]}"'


@cache
def _text_plan(cls: type[Event]) -> tuple[tuple[Sealed, str, str, str], ...]:
    """For each stable field, as ``seal_event`` writes it: the field's name, the text its
    box starts with, and the name of the field saying whose it is."""
    plan = []
    for sealed in sealing_plan(cls):
        field = f'"{sealed.path[0]}":'
        plan.append((sealed, field, f'{field}{{"{SEALED}":"', f'"{sealed.subject}":'))
    return tuple(plan)


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
