"""Random ids that do not hand the GIL to another thread on every call.

``uuid.uuid4`` asks the kernel for 16 bytes each time, and ``os.urandom`` lets go of the
GIL while it does. Whichever thread takes it then (an SQLite reader or writer) runs until
it lets go in turn, and the event loop waits: under the freshness benchmark's load the
loop spent about 5% of its time inside ``uuid4`` but only 0.8% of its CPU, and with two
busy SQLite threads one ``uuid4`` took 19 µs instead of 4. Here the kernel is asked for
4 KiB at a time, so the ids are as random as ``uuid4``'s.

uuid-utils (Rust) would keep the GIL too, but its generator is not reseeded in a forked
child, which would then repeat its parent's ids: for event ids, a lost award.
"""

from __future__ import annotations

import base64
import os
import threading
import uuid

BATCH = 256
"""Ids per request to the kernel."""

_lock = threading.Lock()
_pool = b""
_taken = 0


def new_id() -> uuid.UUID:
    """A random (version 4) UUID."""
    global _pool, _taken
    with _lock:
        if _taken >= len(_pool):
            _pool, _taken = os.urandom(16 * BATCH), 0
        raw = _pool[_taken : _taken + 16]
        _taken += 16
    return uuid.UUID(bytes=raw, version=4)


def _forget() -> None:
    """In a forked child: draw afresh, never the parent's next ids."""
    global _lock, _pool, _taken
    _lock, _pool, _taken = threading.Lock(), b"", 0


os.register_at_fork(after_in_child=_forget)


def new_key(kind: str) -> str:
    """A deployment-unique id for something a school keeps (a pupil, class, member of staff):
    ``pup_`` and 26 base32 letters of a random UUID. The kind in front tells people reading
    logs and URLs what it names; the ids a school's own records use are kept beside it as
    its ``source_id``, never as the key, so two schools' records cannot collide."""
    return f"{kind}_{base64.b32encode(new_id().bytes).decode().rstrip('=').lower()}"
