"""A person's own data, to take away: ``/api/exports``.

Anyone signed in may ask for their own: a parent for what the school holds about them and
their children, a member of staff for theirs. A leader (or the school's admin) may ask for
a pupil's record. Nobody else sees a job or an archive: a job is found only by the account
that asked for it, and a pupil's export only for a pupil of the asker's own school.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from schoolgate_contracts.privacy import PERSON
from schoolgate_kit.identity import Identity, Role
from schoolgate_kit.problems import Forbidden, NotFound, Problem, problem_responses

from schoolgate_gateway.accounts import Kind
from schoolgate_gateway.audit import Read
from schoolgate_gateway.bootstrap import SESSION_COOKIE
from schoolgate_gateway.deps import Address, CorrelationId, GatewayDep, SignedIn
from schoolgate_gateway.entrypoints.account import confirm_password
from schoolgate_gateway.export import READY, Exports, FetchMedia, Subject
from schoolgate_gateway.projections import PARENTS, PUPILS
from schoolgate_gateway.scope import identity_for

router = APIRouter(prefix="/api/exports", tags=["privacy"])
JOBS_KEPT = 5
"""Exports one account may hold at once (each kept a day): a bound on what repeated asking
costs the school's server."""
ExportId = Annotated[str, Path(pattern=r"^exp_[0-9a-f]{32}$")]


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pupil_id: str | None = Field(default=None, max_length=80)
    """A leader's export of this pupil's record; without it, your own data."""
    school_id: str | None = Field(default=None, max_length=80)
    """Which of your schools, if your children are at more than one."""


class ExportJob(BaseModel):
    export_id: str
    status: str
    """building, ready or failed."""
    progress: float
    started_at: datetime
    expires_at: datetime | None = None
    reason: str | None = None
    archive: str | None = None
    """Where to download it, once ready."""


class TooManyExports(Problem):
    status, slug, title = 429, "too-many-exports", "You have asked for enough exports for now"


def _job(doc: dict[str, object]) -> ExportJob:
    job = ExportJob.model_validate(doc)
    if job.status == READY:
        job.archive = f"/api/exports/{job.export_id}/archive"
    return job


def _exports(gateway: GatewayDep) -> Exports:
    if gateway.exports is None:
        raise NotFound("Exports are not available here.")
    return gateway.exports


@router.post(
    "", status_code=202, response_model=ExportJob, responses=problem_responses(401, 403, 404, 429)
)
async def start_export(
    body: ExportRequest, account: SignedIn, gateway: GatewayDep, correlation: CorrelationId
) -> ExportJob:
    """Start building an archive; the answer is the job, whose progress you can follow."""
    exports = _exports(gateway)
    identity = await identity_for(account, gateway.readmodels, school_hint=body.school_id)
    subject = await _subject(body, identity, gateway)
    if len(await exports.jobs(account.account_id)) >= JOBS_KEPT:
        raise TooManyExports("You can ask again when one of your exports has expired.")
    stories = gateway.services["stories"]

    async def fetch(media_id: str) -> tuple[str, bytes] | None:
        # with the asker's own identity: the stories service decides what they may have
        answer = await stories.call(
            "GET",
            f"/schools/{subject.school_id}/media/{media_id}",
            identity=identity,
            correlation_id=correlation,
        )
        if answer.status_code != 200:
            return None
        return answer.headers.get("content-type", "application/octet-stream"), answer.content

    media: FetchMedia = fetch
    job = _job(await exports.start(account.account_id, subject, media))
    if subject.kind == "pupil":
        await gateway.audit.record(identity, Read(subject.person_id, None, "exported record"))
    return job


async def _subject(body: ExportRequest, identity: Identity, gateway: GatewayDep) -> Subject:
    school = identity.school_id
    if body.pupil_id is not None:
        if identity.role not in {Role.leader, Role.school_admin}:
            raise Forbidden("Only the school's leaders can export a pupil's record.")
        pupil = await gateway.readmodels.get(PUPILS, body.pupil_id)
        if pupil is None or pupil["school_id"] != school:
            raise NotFound("There is no such pupil at your school.")
        return Subject(school, "pupil", body.pupil_id, frozenset({body.pupil_id}))
    if identity.role is Role.parent:
        return Subject(school, "parent", identity.subject, identity.pupil_ids)
    if identity.is_staff:
        return Subject(school, "staff", identity.subject)
    raise Forbidden("Ask your teacher or your family for a copy of your work.")


@router.get("", response_model=list[ExportJob], responses=problem_responses(401))
async def your_exports(account: SignedIn, gateway: GatewayDep) -> list[ExportJob]:
    """Your exports of the last day, oldest first."""
    return [_job(j) for j in await _exports(gateway).jobs(account.account_id)]


@router.get("/{export_id}", response_model=ExportJob, responses=problem_responses(401, 404))
async def your_export(export_id: ExportId, account: SignedIn, gateway: GatewayDep) -> ExportJob:
    job = await _exports(gateway).job(account.account_id, export_id)
    if job is None:
        raise NotFound("You have no such export.")
    return _job(job)


@router.get("/{export_id}/archive", response_class=Response, responses=problem_responses(401, 404))
async def download(export_id: ExportId, account: SignedIn, gateway: GatewayDep) -> Response:
    """The archive, while its link lasts (a day)."""
    exports = _exports(gateway)
    job = await exports.job(account.account_id, export_id)
    data = None if job is None else await exports.archive(account.account_id, export_id)
    if job is None or data is None:
        raise NotFound("You have no such export ready, or its link has expired.")
    day = re.sub(r"[^0-9-]", "", str(job["started_at"])[:10])
    return Response(
        data,
        media_type="application/zip",
        headers={
            "content-disposition": f'attachment; filename="schoolgate-export-{day}.zip"',
            "cache-control": "no-store",
        },
    )


# -- closing a parent's account --------------------------------------------------------------

account_router = APIRouter(prefix="/api/me", tags=["privacy"])


class Closing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=200)
    """Asked again: a borrowed phone left signed in must not be enough."""


class ErasureUnavailable(Problem):
    status, slug, title = 503, "erasure-unavailable", "Closing accounts is not possible here"


@account_router.post("/close", status_code=204, responses=problem_responses(401, 403, 429, 503))
async def close_account(
    body: Closing,
    request: Request,
    response: Response,
    account: SignedIn,
    gateway: GatewayDep,
    correlation: CorrelationId,
    address: Address,
) -> None:
    """A parent closes their account. Their data key is destroyed first, so everything
    they wrote and everything written about them as a parent (comments, reasons given to
    the school) reads as removed from then on; then each school records that they are no
    longer a guardian; then the account and its sessions go. Their children's own records
    stay with the school, which keeps them under its own rules."""
    if account.kind is not Kind.parent:
        raise Forbidden(
            "Staff and pupil accounts belong to the school: please ask a school leader."
        )
    if gateway.keyring is None:
        raise ErasureUnavailable("This Schoolgate runs without a master key.")
    await confirm_password(account, body.password, request, gateway, address)
    await asyncio.to_thread(gateway.keyring.erase, PERSON, account.person_id)
    known = await gateway.readmodels.get(PARENTS, account.person_id) or {}
    at: dict[str, set[str]] = {}
    for field in ("children", "requested"):
        for pupil_id, school_id in known.get(field, {}).items():
            at.setdefault(school_id, set()).add(pupil_id)
    consent = gateway.services["consent"]
    for school_id, pupil_ids in sorted(at.items()):
        parent = Identity(
            subject=account.person_id,
            role=Role.parent,
            school_id=school_id,
            pupil_ids=frozenset(pupil_ids),
        )
        answer = await consent.call(
            "POST",
            f"/schools/{school_id}/parents/{account.person_id}/close",
            identity=parent,
            correlation_id=correlation,
            json={"pupil_ids": sorted(pupil_ids)},
        )
        if answer.status_code != 200:
            # the key is gone already; asking again finishes the rest
            raise Problem(f"The school could not record it just now ({answer.status_code}).")
    await gateway.accounts.forget(Kind.parent, account.person_id)
    response.delete_cookie(SESSION_COOKIE, path="/")


# -- who looked at which child's record ------------------------------------------------------

audit_router = APIRouter(prefix="/api/audit", tags=["privacy"])


class AuditEntry(BaseModel):
    at: datetime
    staff_id: str
    role: str
    pupil_id: str | None
    class_id: str | None
    what: str


@audit_router.get("", response_model=list[AuditEntry], responses=problem_responses(401, 403))
async def who_looked(
    account: SignedIn,
    gateway: GatewayDep,
    pupil_id: Annotated[str | None, Query(max_length=80, pattern=r"^[A-Za-z0-9_-]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AuditEntry]:
    """For the school's leaders: which member of staff read which child's record, and when,
    newest first (one child's, with ``pupil_id``). Ids only: names come from the roster."""
    identity = await identity_for(account, gateway.readmodels)
    if identity.role not in {Role.leader, Role.school_admin}:
        raise Forbidden("Only the school's leaders can see who looked at children's records.")
    found = await gateway.audit.entries(identity.school_id, pupil_id=pupil_id, limit=limit)
    return [AuditEntry.model_validate(entry) for entry in found]
