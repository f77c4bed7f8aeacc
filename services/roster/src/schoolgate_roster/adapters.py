"""Where the roster service keeps what is not an event: import jobs and their uploads.

Both live in the read-model store under generation 0 (documents no rebuild replaces), so a
job's progress and report survive a restart and an unfinished job can be taken up again.
"""

from __future__ import annotations

import base64
from typing import Any

from schoolgate_kit.readmodels import Doc, ReadModelStore

IMPORT_JOBS = "roster.import_jobs"
IMPORT_UPLOADS = "roster.import_uploads"
UNFINISHED = ("validating", "applying")


def job_key(school_id: str, import_id: str) -> str:
    return f"{school_id}:{import_id}"


class ImportJobs:
    def __init__(self, readmodels: ReadModelStore) -> None:
        self._readmodels = readmodels

    async def save(self, job: Doc) -> None:
        key = job_key(job["school_id"], job["import_id"])
        await self._readmodels.commit(IMPORT_JOBS, 0, {key: job}, None)

    async def update(self, job: Doc, **changes: Any) -> Doc:
        job = {**job, **changes}
        await self.save(job)
        return job

    async def get(self, school_id: str, import_id: str) -> Doc | None:
        return await self._readmodels.get(IMPORT_JOBS, job_key(school_id, import_id))

    async def unfinished(self) -> list[Doc]:
        found: list[Doc] = []
        for status in UNFINISHED:
            found += await self._readmodels.find(IMPORT_JOBS, {"status": status})
        return found

    async def save_upload(
        self, school_id: str, import_id: str, content_type: str, data: bytes
    ) -> None:
        doc = {"content_type": content_type, "data": base64.b64encode(data).decode("ascii")}
        await self._readmodels.commit(IMPORT_UPLOADS, 0, {job_key(school_id, import_id): doc}, None)

    async def upload(self, school_id: str, import_id: str) -> tuple[str, bytes] | None:
        doc = await self._readmodels.get(IMPORT_UPLOADS, job_key(school_id, import_id))
        if doc is None:
            return None
        return str(doc["content_type"]), base64.b64decode(doc["data"])

    async def drop_upload(self, school_id: str, import_id: str) -> None:
        await self._readmodels.commit(
            IMPORT_UPLOADS, 0, {job_key(school_id, import_id): None}, None
        )
