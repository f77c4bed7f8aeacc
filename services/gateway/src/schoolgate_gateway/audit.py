"""Who on the staff looked at which child's record, and when: for the school's leaders.

Every read of a pupil's record by a member of staff through the gateway (their details, their
guardians and consent, their photo consent and invites, their points summary, their
portfolio, a class's points report, a leader's export of the record) is written down here as
it is answered. An entry holds ids and the kind of record only, never what was read: the
audit itself holds no pupil data beyond ids. It is kept in the gateway's read models
(generation 0: never rebuilt, it is not derived from the log) for ``KEPT``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from schoolgate_kit.identity import Identity
from schoolgate_kit.readmodels import Doc, ReadModelStore

AUDIT = "gateway.audit"
GENERATION = 0
KEPT = timedelta(days=400)
"""A school year and then some: long enough to answer "who looked at this last year?"."""
PURGE_EVERY = timedelta(hours=1)

S = r"schools/(?P<school>[A-Za-z0-9_-]{1,64})"
P = r"(?P<pupil>[A-Za-z0-9_-]{1,80})"
C = r"(?P<class>[A-Za-z0-9_-]{1,80})"
READS: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (service, re.compile(pattern), what)
    for service, pattern, what in (
        ("roster", rf"{S}/pupils/{P}", "details"),
        ("consent", rf"{S}/pupils/{P}/consent", "guardians and consent"),
        ("consent", rf"{S}/pupils/{P}/media", "photo consent"),
        ("consent", rf"{S}/pupils/{P}/invites", "invite letters"),
        ("points", rf"{S}/pupils/{P}/summary", "points"),
        ("points", rf"{S}/classes/{C}/report", "class points report"),
        ("stories", rf"{S}/pupils/{P}/portfolio", "portfolio"),
        ("stories", rf"{S}/pupils/{P}/home-learning", "home learning"),
    )
)


@dataclass(frozen=True)
class Read:
    pupil_id: str | None
    class_id: str | None
    what: str


def classify(service: str, path: str) -> Read | None:
    """The record a staff GET of ``service``'s ``path`` reads, if it is a child's."""
    for known, pattern, what in READS:
        if known == service and (found := pattern.fullmatch(path)) is not None:
            groups = found.groupdict()
            return Read(groups.get("pupil"), groups.get("class"), what)
    return None


class Audit:
    def __init__(self, readmodels: ReadModelStore, clock: Callable[[], datetime]) -> None:
        self._readmodels = readmodels
        self._clock = clock
        self._indexed = False
        self._purged: datetime | None = None

    async def record(self, staff: Identity, read: Read) -> None:
        if not self._indexed:
            for fields in (
                ("school_id", "at"),
                ("school_id", "pupil_id", "at"),
                ("expires",),
            ):
                await self._readmodels.ensure_index(AUDIT, fields)
            self._indexed = True
        now = self._clock()
        entry_id = uuid.uuid4().hex
        entry = {
            "entry_id": entry_id,
            "school_id": staff.school_id,
            "at": now.isoformat(),
            "staff_id": staff.subject,
            "role": staff.role.value,
            "pupil_id": read.pupil_id,
            "class_id": read.class_id,
            "what": read.what,
            "expires": (now + KEPT).isoformat(),
        }
        await self._readmodels.commit(AUDIT, GENERATION, {entry_id: entry}, None)
        if self._purged is None or now - self._purged > PURGE_EVERY:
            await self._purge(now)

    async def _purge(self, now: datetime) -> None:
        """Entries past ``KEPT`` leave storage: at most an hour late, a bounded batch a time."""
        self._purged = now
        old = await self._readmodels.find(
            AUDIT, {}, order_by="expires", limit=500, before=("expires", now.isoformat())
        )
        if old:
            gone: dict[str, Doc | None] = {d["entry_id"]: None for d in old}
            await self._readmodels.commit(AUDIT, GENERATION, gone, None)

    async def entries(
        self, school_id: str, *, pupil_id: str | None = None, limit: int = 100
    ) -> list[Doc]:
        """Newest first; what has passed ``KEPT`` is left out."""
        where = {"school_id": school_id} | ({} if pupil_id is None else {"pupil_id": pupil_id})
        found = await self._readmodels.find(
            AUDIT, where, order_by="at", descending=True, limit=limit
        )
        now = self._clock().isoformat()
        keep = ("at", "staff_id", "role", "pupil_id", "class_id", "what")
        return [{k: d[k] for k in keep} for d in found if d["expires"] > now]
