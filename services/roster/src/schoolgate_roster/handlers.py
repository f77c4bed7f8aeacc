"""Command and query handlers: the message first, named dependencies after."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from schoolgate_contracts import Event, Metadata
from schoolgate_contracts.points import POINTS_WEEK
from schoolgate_contracts.privacy import PERSON
from schoolgate_contracts.roster import Retention, Term
from schoolgate_kit.commands import Decided, execute, recording_writes
from schoolgate_kit.ids import new_key
from schoolgate_kit.names import PupilName, display_names
from schoolgate_kit.problems import Conflict, Problem
from schoolgate_kit.projections import strip
from schoolgate_kit.readmodels import Doc

from schoolgate_roster import domain, import_diff, importing
from schoolgate_roster.adapters import IMPORT_JOBS, job_key
from schoolgate_roster.bootstrap import Roster
from schoolgate_roster.domain import (
    SchoolNotFound,
)
from schoolgate_roster.projections import (
    CLASSES,
    LEFT,
    ON_ROLL,
    PUPILS,
    SCHOOL_WAYS,
    SCHOOLS,
    STAFF,
    YEAR_GROUPS,
    entry_key,
)

log = structlog.get_logger()


# -- commands --------------------------------------------------------------------------------


async def change_roster(
    command: domain.Command,
    *,
    roster: Roster,
    school_id: str,
    actor: str,
    correlation_id: str,
) -> Decided[domain.Roster]:
    """Decide one command against the school's roster: the roster afterwards, and what
    was appended (nothing when the command had already been carried out)."""
    return await execute(
        roster.store,
        domain.roster_stream(school_id),
        initial=domain.initial_state,
        evolve=domain.evolve,
        decide=lambda state: domain.decide(state, command),
        metadata=Metadata(
            occurred_at=roster.clock(),
            school_id=school_id,
            actor=actor,
            correlation_id=correlation_id,
        ),
        new_id=roster.new_id,
    )


class ErasureUnavailable(Problem):
    status, slug, title = 503, "erasure-unavailable", "Erasing is not possible here"


async def erase_pupil(
    school_id: str, pupil_id: str, *, roster: Roster, actor: str, correlation_id: str
) -> Decided[domain.Roster]:
    """Erase a pupil who has left (``_erase``)."""
    command = domain.ErasePupil(pupil_id, erased_by=actor)
    return await _erase(school_id, pupil_id, command, roster=roster, correlation_id=correlation_id)


async def erase_staff_member(
    school_id: str, staff_id: str, *, roster: Roster, actor: str, correlation_id: str
) -> Decided[domain.Roster]:
    """Erase a member of staff who has left (``_erase``)."""
    command = domain.EraseStaffMember(staff_id, erased_by=actor)
    return await _erase(school_id, staff_id, command, roster=roster, correlation_id=correlation_id)


async def _erase(
    school_id: str,
    person_id: str,
    command: domain.ErasePupil | domain.EraseStaffMember,
    *,
    roster: Roster,
    correlation_id: str,
) -> Decided[domain.Roster]:
    """The person's data key goes first: once it is gone every personal value about them
    reads as removed, in every service and every rebuild, and a failure after it only
    leaves the record (ids only) to be written by trying again, which destroys nothing
    more and writes it once. Someone not of this school, or not yet left: refused before
    anything is destroyed."""
    if roster.keyring is None:
        raise ErasureUnavailable(
            "this Schoolgate runs without a master key, so nobody's data can be erased"
        )
    actor = command.erased_by
    state = await _roster_state(
        school_id, roster=roster, actor=actor, correlation_id=correlation_id
    )
    domain.decide(state, command)
    await asyncio.to_thread(roster.keyring.erase, PERSON, person_id, school_id=school_id)
    log.info("roster.erased", school_id=school_id, person_id=person_id, actor=actor)
    return await change_roster(
        command, roster=roster, school_id=school_id, actor=actor, correlation_id=correlation_id
    )


RETENTION = "retention"
"""Who erases a leaver whose time is up: the school's own rule, not a person."""
RETENTION_BATCH = 50


async def erase_due_leavers(
    *, roster: Roster, school_id: str | None = None, limit: int = RETENTION_BATCH
) -> list[str]:
    """Erase leavers whose time under their school's retention has come (one school's, or
    every school's), oldest first, at most ``limit`` a run; the pupils erased. A failure
    for one pupil is logged and the others go on: the next run tries it again."""
    now = roster.clock()
    where: dict[str, Any] = {"status": LEFT}
    if school_id is not None:
        where["school_id"] = school_id
    leavers = await roster.readmodels.find(PUPILS, where, order_by="left_at", limit=500)
    schools: dict[str, tuple[Retention, list[Term]]] = {}
    erased: list[str] = []
    for doc in leavers:
        if len(erased) >= limit:
            break
        if not doc.get("left_at"):
            continue
        school = doc["school_id"]
        if school not in schools:
            found = await roster.readmodels.get(SCHOOLS, school) or {}
            schools[school] = (
                Retention.model_validate(found.get("retention") or {}),
                [Term.model_validate(t) for t in found.get("terms", [])],
            )
        retention, terms = schools[school]
        if domain.leaver_due(datetime.fromisoformat(doc["left_at"]), retention, terms) > now:
            continue
        try:
            decided = await erase_pupil(
                school,
                doc["pupil_id"],
                roster=roster,
                actor=RETENTION,
                correlation_id=f"retention-{now.date().isoformat()}",
            )
        except Exception:
            log.exception("roster.retention_failed", school_id=school, pupil_id=doc["pupil_id"])
            continue
        if decided.events:  # not one the read model does not show erased yet
            erased.append(doc["pupil_id"])
    if erased:
        log.info("roster.retention_erased", count=len(erased))
    return erased


async def erase_old_points(*, roster: Roster, school_id: str | None = None) -> int:
    """Erase the points of weeks past each school's ``points_kept_months`` (one school's, or
    every school's): their week keys first, then ``OldPointsErased`` for read models to drop
    them. The number of weeks erased.

    Should the append fail after the keys are gone, those awards already read as nobody's;
    their documents go with the next week's erasure, or a rebuild."""
    keyring = roster.keyring
    if keyring is None:
        return 0  # without a master key nothing is sealed, so nothing can be erased
    now = roster.clock()
    if school_id is not None:
        schools = [await school(school_id, roster=roster)]
    else:
        schools = await roster.readmodels.find(SCHOOLS, {})
    erased = 0
    for doc in schools:
        found = doc.get("school_id")
        if not found:
            continue
        retention = Retention.model_validate(doc.get("retention") or {})
        today = now.astimezone(ZoneInfo(doc.get("timezone") or "Europe/London")).date()
        before = domain.points_erased_before(today, retention)
        weeks = await asyncio.to_thread(
            keyring.erase_before, POINTS_WEEK, before.isoformat(), school_id=found
        )
        if not weeks:
            continue
        await change_roster(
            domain.RecordOldPointsErased(before, len(weeks)),
            roster=roster,
            school_id=found,
            actor=RETENTION,
            correlation_id=f"retention-{today.isoformat()}",
        )
        log.info("roster.points_erased", school_id=found, weeks=len(weeks), before=str(before))
        erased += len(weeks)
    return erased


async def keep_to_retention(*, roster: Roster, every: timedelta) -> None:
    """Erase what is due, now and every ``every``, until cancelled."""
    while True:
        for due in (erase_due_leavers, erase_old_points):
            try:
                await due(roster=roster)
            except Exception:
                log.exception("roster.retention_run_failed", part=due.__name__)
        await asyncio.sleep(every.total_seconds())


async def _roster_state(
    school_id: str, *, roster: Roster, actor: str, correlation_id: str
) -> domain.Roster:
    return await _roster_now(
        {"school_id": school_id, "requested_by": actor, "correlation_id": correlation_id},
        roster=roster,
    )


# -- imports ---------------------------------------------------------------------------------
#
# Every import is a dry run first: the job reads the file, decides against the roster as it
# is, and stops "previewed" with the report of what it would do, having appended nothing.
# Only when a leader confirms (``apply_import``) does it decide again, against the roster as
# it is by then, and append. A previewed job nobody applies keeps its upload for
# ``PREVIEW_KEPT``, then expires.

PREVIEW_KEPT = timedelta(hours=24)
PREVIEWED, APPLYING, EXPIRED = "previewed", "applying", "expired"

PREVIEWS_HELD, PREVIEW_ROWS_HELD = 4, 5000
"""How many previews' snapshots a process holds for their apply (``Roster.previews``), and
how large each may be; a job applied by another process, or after a restart, reads its
stored upload again."""


async def start_import(
    content_type: str,
    data: bytes,
    *,
    roster: Roster,
    school_id: str,
    full: bool,
    actor: str,
    correlation_id: str,
    org: str | None = None,
    grade_names: str = "uk",
    replace_terms: bool = False,
) -> Doc:
    """Accept an upload as a job that previews it: a file that cannot be a roster is
    refused at once."""
    kind = importing.check_upload(content_type, data)
    await expire_previews(roster=roster)
    async with roster.starting:
        await _make_room(school_id, roster=roster)
        import_id = roster.new_id().hex
        job: Doc = {
            "school_id": school_id,
            "import_id": import_id,
            "status": "validating",
            "processed": 0,
            "total": 0,  # counted once the job has opened the file
            "source": kind,
            "full": full,
            "org": org,
            "grade_names": grade_names,
            "replace_terms": replace_terms,
            "report": None,
            "problem": None,
            "reading": None,
            "requested_by": actor,
            "applied_by": None,
            "correlation_id": correlation_id,
            "created_at": roster.clock().isoformat(),
            "previewed_at": None,
            "finished_at": None,
        }
        await roster.jobs.save_upload(school_id, import_id, content_type, data)
        await roster.jobs.save(job)
    roster.spawn(run_import(school_id, import_id, roster=roster), name=f"import:{import_id}")
    return job


CHECKING_PER_SCHOOL, PREVIEWS_PER_SCHOOL = 3, 5
"""A school's uploads kept for their jobs: at most this many being checked at once, and this
many checked and waiting for a leader (each up to ``max_upload_bytes``, for a day)."""


class ImportsBusy(Problem):
    status, slug, title = 429, "imports-busy", "Other files of this school are being checked"


async def _make_room(school_id: str, *, roster: Roster) -> None:
    """Bound what one school's uploads hold: a leader (or a stolen session) uploading file
    after file would otherwise keep every one of them for a day. The oldest unapplied
    checks let go of their files; a school already checking several files is asked to wait."""
    checking = await roster.readmodels.find(
        IMPORT_JOBS, {"school_id": school_id, "status": "validating"}
    )
    if len(checking) >= CHECKING_PER_SCHOOL:
        raise ImportsBusy(
            f"{len(checking)} files of this school are being checked: try again when they are done",
            retry_after=5,
        )
    waiting = await roster.readmodels.find(
        IMPORT_JOBS, {"school_id": school_id, "status": PREVIEWED}
    )
    waiting.sort(key=lambda job: job.get("previewed_at") or "")
    for job in waiting[: max(0, len(waiting) - PREVIEWS_PER_SCHOOL + 1)]:
        await _expire(job, roster=roster)


class ImportNotPreviewed(Conflict):
    slug, title = "import-not-previewed", "Only a previewed import can be applied"


async def apply_import(
    school_id: str, import_id: str, *, roster: Roster, actor: str, correlation_id: str
) -> Doc:
    """Confirm a previewed import: the job applies it in the background."""
    job = await roster.jobs.get(school_id, import_id)
    if job is None:
        raise domain.EntryNotFound(f"this school has no import {import_id}")
    key = job_key(school_id, import_id)
    status = APPLYING if key in roster.accepting else job["status"]
    if status != PREVIEWED:
        raise ImportNotPreviewed(f"import {import_id} is {status}, not previewed")
    if _expired(job, roster.clock()):
        await _expire(job, roster=roster)
        raise ImportNotPreviewed(f"the preview of import {import_id} expired: upload it again")
    roster.accepting.add(key)
    try:
        job = await roster.jobs.update(
            job, status=APPLYING, applied_by=actor, apply_correlation_id=correlation_id
        )
    finally:
        roster.accepting.discard(key)
    roster.spawn(run_import(school_id, import_id, roster=roster), name=f"import:{import_id}")
    return job


def _expired(job: Doc, now: datetime) -> bool:
    previewed = job.get("previewed_at")
    return previewed is not None and now - datetime.fromisoformat(previewed) > PREVIEW_KEPT


async def _expire(job: Doc, *, roster: Roster) -> None:
    roster.previews.pop(job_key(job["school_id"], job["import_id"]), None)
    await roster.jobs.update(job, status=EXPIRED, finished_at=roster.clock().isoformat())
    await roster.jobs.drop_upload(job["school_id"], job["import_id"])


async def expire_previews(*, roster: Roster) -> int:
    """Let go of the uploads of previews nobody applied within ``PREVIEW_KEPT``."""
    now = roster.clock()
    stale = [
        job
        for job in await roster.readmodels.find(IMPORT_JOBS, {"status": PREVIEWED})
        if _expired(job, now)
    ]
    for job in stale:
        await _expire(job, roster=roster)
    return len(stale)


async def resume_imports(*, roster: Roster) -> int:
    """Take up the jobs a stopped process left unfinished: a preview is read again, an
    apply applies (an import id applies once anyway). A previewed job waits for its leader."""
    await expire_previews(roster=roster)
    jobs = await roster.jobs.unfinished()
    for job in jobs:
        import_id = job["import_id"]
        roster.spawn(
            run_import(job["school_id"], import_id, roster=roster), name=f"import:{import_id}"
        )
    return len(jobs)


async def run_import(school_id: str, import_id: str, *, roster: Roster) -> None:
    """Preview the job's file, or apply it once confirmed (a job saved "applying")."""
    job = await roster.jobs.get(school_id, import_id)
    if job is None:
        return
    applying = job["status"] == APPLYING
    try:
        upload = await roster.jobs.upload(school_id, import_id)
        if upload is None:
            raise ImportFailed("the uploaded file was lost: upload it again")
        if applying:
            snapshot = roster.previews.pop(job_key(school_id, import_id), None)
            if snapshot is None:
                _, snapshot = await _read(upload, job, roster=roster, quietly=True)
            with recording_writes() as written:
                report = await _apply(snapshot, job, roster=roster)
            await roster.jobs.update(
                job,
                status="done",
                report=report,
                position=written.position,
                finished_at=roster.clock().isoformat(),
            )
        else:
            job = await roster.jobs.update(job, status="validating", processed=0)
            state, snapshot = await _read(upload, job, roster=roster)
            preview = import_diff.decide_import(state, _command(snapshot, job), _minted)
            _hold(roster.previews, job_key(school_id, import_id), snapshot)
            await roster.jobs.update(
                job,
                status=PREVIEWED,
                processed=job["total"],
                report=preview.report.as_json(dry_run=True),
                previewed_at=roster.clock().isoformat(),
            )
            return  # the upload stays for the apply
    except asyncio.CancelledError:
        raise  # shutting down: the job stays unfinished and is taken up on the next start
    except Problem as problem:
        await _failed(job, problem, roster=roster)
    except Exception as exc:
        log.exception("roster.import_crashed", school_id=school_id, import_id=import_id)
        await _failed(job, ImportFailed(f"the import stopped unexpectedly: {exc}"), roster=roster)
    with contextlib.suppress(Exception):
        await roster.jobs.drop_upload(school_id, import_id)


def _hold(held: dict[str, Any], key: str, snapshot: import_diff.Snapshot) -> None:
    rows = len(snapshot.pupils) + len(snapshot.staff or {})
    if rows > PREVIEW_ROWS_HELD:
        return
    held[key] = snapshot
    while len(held) > PREVIEWS_HELD:
        del held[next(iter(held))]  # the oldest preview


class ImportFailed(Problem):
    status, slug, title = 500, "roster-import-failed", "The import could not be completed"


async def _failed(job: Doc, problem: Problem, *, roster: Roster) -> None:
    instance = f"/schools/{job['school_id']}/imports/{job['import_id']}"
    await roster.jobs.update(
        job,
        status="failed",
        problem=problem.body(instance),
        finished_at=roster.clock().isoformat(),
    )


def _minted(kind: str, _source: str) -> str:
    return new_key(kind)


def _command(snapshot: import_diff.Snapshot, job: Doc) -> import_diff.ImportRoster:
    return import_diff.ImportRoster(
        import_id=job["import_id"],
        school_id=job["school_id"],
        snapshot=snapshot,
        full=job["full"],
        requested_by=job["requested_by"],
        applied_by=job.get("applied_by"),
        org_chosen=job.get("org") is not None,
        replace_terms=bool(job.get("replace_terms", False)),
    )


async def _roster_now(job: Doc, *, roster: Roster) -> domain.Roster:
    """The school's roster as its stream has it: decided on, nothing appended."""
    decided = await execute(
        roster.store,
        domain.roster_stream(job["school_id"]),
        initial=domain.initial_state,
        evolve=domain.evolve,
        decide=lambda _state: [],
        metadata=Metadata(
            occurred_at=roster.clock(),
            school_id=job["school_id"],
            actor=job["requested_by"],
            correlation_id=job["correlation_id"],
        ),
        new_id=roster.new_id,
    )
    return decided.state


async def _read(
    upload: tuple[str, bytes], job: Doc, *, roster: Roster, quietly: bool = False
) -> tuple[domain.Roster, import_diff.Snapshot]:
    """The roster now, and the file read for it in a process of its own (``reading``),
    saving progress as it goes unless ``quietly`` (an apply reads the previewed file again)."""
    state = await _roster_now(job, roster=roster)
    seen = [0, 0]

    def progress(processed: int, total: int) -> None:
        seen[:] = [processed, total]  # from the reading thread; read below

    began = time.perf_counter()
    reading = asyncio.ensure_future(
        roster.reader.read(
            *upload,
            school_id=job["school_id"],
            school_source_id=state.source_id,
            org=job.get("org"),
            grade_names=job.get("grade_names", "uk"),
            progress=progress,
        )
    )
    saved = [0, 0]
    try:
        while not reading.done():
            await asyncio.wait({reading}, timeout=0.2)
            if seen != saved and not quietly:
                saved = list(seen)
                job.update(await roster.jobs.update(job, processed=saved[0], total=saved[1]))
    except BaseException:
        # stopped while reading (shutting down, or the job store failed): the read's own
        # outcome is no longer anyone's, so it is collected here rather than logged as lost
        reading.add_done_callback(lambda done: done.cancelled() or done.exception())
        reading.cancel()
        raise
    result = reading.result()
    took = {"seconds": round(time.perf_counter() - began, 3), "peak_bytes": result.peak_bytes}
    job.update(await roster.jobs.update(job, total=result.total, reading=took))
    return state, result.snapshot


async def _apply(snapshot: import_diff.Snapshot, job: Doc, *, roster: Roster) -> dict[str, Any]:
    command = _command(snapshot, job)
    reports: list[import_diff.ImportReport] = []

    def decide(state: domain.Roster) -> list[Event]:
        decision = import_diff.decide_import(state, command, _minted)
        reports.append(decision.report)  # decided again on a conflict: the last one counts
        return decision.events

    await execute(
        roster.store,
        domain.roster_stream(job["school_id"]),
        initial=domain.initial_state,
        evolve=domain.evolve,
        decide=decide,
        metadata=Metadata(
            occurred_at=roster.clock(),
            school_id=job["school_id"],
            actor=job.get("applied_by") or job["requested_by"],
            correlation_id=job.get("apply_correlation_id") or job["correlation_id"],
            causation_id=job["import_id"],
        ),
        new_id=roster.new_id,
    )
    return reports[-1].as_json(dry_run=False)


async def import_job(school_id: str, import_id: str, *, roster: Roster) -> Doc | None:
    return await roster.jobs.get(school_id, import_id)


# -- queries ---------------------------------------------------------------------------------


async def school(school_id: str, *, roster: Roster) -> Doc:
    doc = strip(await roster.readmodels.get(SCHOOLS, school_id))
    if doc is None:
        raise SchoolNotFound(f"no school {school_id}")
    return doc


async def year_groups(school_id: str, *, roster: Roster) -> list[Doc]:
    return await _all(YEAR_GROUPS, {"school_id": school_id}, "name", roster=roster)


async def classes(school_id: str, *, roster: Roster) -> list[Doc]:
    return await _all(CLASSES, {"school_id": school_id}, "name", roster=roster)


async def school_class(school_id: str, class_id: str, *, roster: Roster) -> Doc:
    doc = strip(await roster.readmodels.get(CLASSES, entry_key(school_id, class_id)))
    if doc is None:
        raise domain.EntryNotFound(f"this school has no class {class_id}")
    return doc


async def staff(school_id: str, *, roster: Roster, include_left: bool = False) -> list[Doc]:
    found = await _all(STAFF, {"school_id": school_id}, "display_name", roster=roster)
    return [d for d in found if include_left or d["status"] != LEFT]


async def school_ways(school_id: str, *, roster: Roster) -> list[Doc]:
    return await _all(SCHOOL_WAYS, {"school_id": school_id}, "name", roster=roster)


async def pupils(
    school_id: str,
    *,
    roster: Roster,
    class_id: str | None = None,
    year_group_id: str | None = None,
    include_left: bool = False,
) -> list[Doc]:
    """Pupils with full names and the names their class sees: for staff only."""
    where: dict[str, Any] = {"school_id": school_id}
    if class_id is not None:
        where["class_id"] = class_id
    if year_group_id is not None:
        where["year_group_id"] = year_group_id
    if not include_left:
        where["status"] = ON_ROLL
    found = await _all(PUPILS, where, "surname", roster=roster)
    shown = await _shown_names(school_id, {d["class_id"] for d in found}, roster=roster)
    return [{**d, "display_name": shown.get(d["pupil_id"], d["first_name"])} for d in found]


async def pupil(school_id: str, pupil_id: str, *, roster: Roster) -> Doc:
    doc = strip(await roster.readmodels.get(PUPILS, entry_key(school_id, pupil_id)))
    if doc is None:
        raise domain.EntryNotFound(f"this school has no pupil {pupil_id}")
    shown = await _shown_names(school_id, {doc["class_id"]}, roster=roster, also=doc)
    return {**doc, "display_name": shown[pupil_id]}


def family_view(doc: Doc) -> Doc:
    """A pupil as a parent or the pupil sees them: the class's display name, no surname."""
    keep = ("pupil_id", "display_name", "year_group_id", "class_id", "avatar", "status")
    return {k: doc[k] for k in keep}


async def class_names(school_id: str, class_id: str, *, roster: Roster) -> list[str]:
    """The names a class's families see, and nothing else about the children."""
    shown = await _shown_names(school_id, {class_id}, roster=roster)
    return sorted(shown.values(), key=str.casefold)


async def is_childs_class(
    school_id: str, class_id: str, pupil_ids: frozenset[str], *, roster: Roster
) -> bool:
    for pupil_id in sorted(pupil_ids):
        doc = await roster.readmodels.get(PUPILS, entry_key(school_id, pupil_id))
        if doc is not None and doc["status"] == ON_ROLL and doc["class_id"] == class_id:
            return True
    return False


async def _shown_names(
    school_id: str, class_ids: set[str], *, roster: Roster, also: Doc | None = None
) -> dict[str, str]:
    """Display names computed per class, among the pupils on roll in it."""
    shown: dict[str, str] = {}
    for class_id in sorted(class_ids):
        members = await roster.readmodels.find(
            PUPILS, {"school_id": school_id, "class_id": class_id, "status": ON_ROLL}
        )
        if also is not None and also["status"] != ON_ROLL:
            members.append(also)  # a pupil who left keeps the name they had among classmates
        shown |= display_names(
            PupilName(d["pupil_id"], d["first_name"], d["surname"]) for d in members
        )
    return shown


async def _all(
    projection: str, where: dict[str, Any], order_by: str, *, roster: Roster
) -> list[Doc]:
    found = await roster.readmodels.find(projection, where, order_by=order_by)
    return [d for d in (strip(doc) for doc in found) if d is not None]
