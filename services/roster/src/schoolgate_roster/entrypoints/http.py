"""The roster service's HTTP API: a school's directory, its changes and its imports."""

from __future__ import annotations

import zoneinfo
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from schoolgate_contracts.roster import (
    Retention,
    SchoolDetails,
    SchoolRegistered,
    StaffRole,
    Term,
)
from schoolgate_kit.app import Kit, create_service_app
from schoolgate_kit.guard import allow_body
from schoolgate_kit.identity import Identity
from schoolgate_kit.ids import new_key
from schoolgate_kit.names import PupilName, display_names
from schoolgate_kit.problems import Problem, problem_responses

from schoolgate_roster import domain, handlers
from schoolgate_roster.bootstrap import Roster
from schoolgate_roster.deps import (
    AvatarChooser,
    ClassReader,
    CorrelationId,
    Member,
    PupilReader,
    RosterDep,
    Staff,
    Writer,
)

Id = Annotated[str, Field(pattern=domain.ID_PATTERN)]
PathId = Annotated[str, Path(pattern=domain.ID_PATTERN)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]

RETENTION_EVERY = timedelta(hours=1)
"""How often each roster API erases the leavers whose time has come."""
router = APIRouter(prefix="/schools/{school_id}", tags=["roster"])


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _is_timezone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


class TermBody(Body):
    name: Name
    starts: date
    ends: date


class SchoolBody(Body):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    timezone: str = "Europe/London"
    working_days: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default=[0, 1, 2, 3, 4], min_length=1, max_length=7, description="Monday is 0."
    )
    day_starts: time = time(8, 0)
    day_ends: time = time(17, 0)
    week_start: int = Field(default=0, ge=0, le=6, description="Monday is 0.")
    terms: list[TermBody] = Field(default=[], max_length=12)
    holidays: list[TermBody] = Field(
        default=[], max_length=50, description="Days off inside or between terms."
    )

    @model_validator(mode="after")
    def _consistent(self) -> SchoolBody:
        if not _is_timezone(self.timezone):
            raise ValueError(f"{self.timezone!r} is not an IANA timezone")
        if len(set(self.working_days)) != len(self.working_days):
            raise ValueError("working_days names a day twice")
        if self.day_starts.tzinfo is not None or self.day_ends.tzinfo is not None:
            raise ValueError("school hours are times of the school's day, with no offset")
        if self.day_starts >= self.day_ends:
            raise ValueError("day_starts must be before day_ends")
        for term in self.terms:
            if term.ends < term.starts:
                raise ValueError(f"term {term.name!r} ends before it starts")
        for holiday in self.holidays:
            if holiday.ends < holiday.starts:
                raise ValueError(f"holiday {holiday.name!r} ends before it starts")
        return self

    def details(self) -> SchoolDetails:
        return SchoolDetails(
            name=self.name,
            timezone=self.timezone,
            working_days=tuple(sorted(self.working_days)),
            day_starts=self.day_starts,
            day_ends=self.day_ends,
            week_start=self.week_start,
            terms=tuple(
                Term(name=t.name, starts=t.starts, ends=t.ends)
                for t in sorted(self.terms, key=lambda t: t.starts)
            ),
            holidays=tuple(
                Term(name=t.name, starts=t.starts, ends=t.ends)
                for t in sorted(self.holidays, key=lambda t: t.starts)
            ),
        )


SourceIdField = Field(
    default=None,
    description="Its id in the school's own records (e.g. an admission number): sending the"
    " same one again finds it rather than adding a second. Schoolgate makes its own id.",
)
SourceId = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]


class YearGroupBody(Body):
    name: Name
    source_id: SourceId | None = SourceIdField


class ClassBody(Body):
    name: Name
    year_group_id: Id
    source_id: SourceId | None = SourceIdField


class PupilBody(Body):
    source_id: SourceId | None = SourceIdField
    first_name: Name
    surname: Name
    class_id: Id
    year_group_id: Id | None = Field(default=None, description="Default: the class's.")
    avatar: Id | None = None


class AvatarBody(Body):
    avatar: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[^\x00-\x1f\x7f]+$"
        ),
    ] = Field(description="The seed the pupil's monster is drawn from.")


class MoveBody(Body):
    class_id: Id
    year_group_id: Id | None = Field(default=None, description="Default: the class's.")


class StaffBody(Body):
    source_id: SourceId | None = SourceIdField
    display_name: Name
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)] = Field(
        default="", pattern=r"^$|^[^@\s]+@[^@\s]+$"
    )
    role: StaffRole
    class_ids: list[Id] = Field(default=[], max_length=100)


Icon = Literal[
    "", "star", "heart", "hands", "book", "bulb", "shield", "sun", "tree", "smile", "trophy"
]
"""The icons a value may be shown with (the app draws each); "" for none."""
Colour = Literal["", "red", "orange", "green", "teal", "blue", "purple", "pink", "grey"]
"""The colours a value may be shown in (the app picks shades readable on white)."""


class SchoolWayBody(Body):
    name: Name
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    icon: Icon = ""
    colour: Colour = ""


class StaffChangeBody(Body):
    role: StaffRole
    class_ids: list[Id] = Field(default=[], max_length=100)


class YearGroupChangeBody(Body):
    name: Name


class ClassChangeBody(Body):
    name: Name
    year_group_id: Id


class SchoolView(BaseModel):
    school_id: str
    name: str
    timezone: str
    working_days: list[int]
    day_starts: time
    day_ends: time
    week_start: int
    terms: list[TermBody]
    holidays: list[TermBody] = []


class YearGroupView(BaseModel):
    year_group_id: str
    name: str
    source_id: str | None = None


class ClassView(BaseModel):
    class_id: str
    name: str
    year_group_id: str
    source_id: str | None = None


class PupilView(BaseModel):
    """A pupil as staff see them."""

    pupil_id: str
    first_name: str
    surname: str
    display_name: str
    year_group_id: str
    class_id: str
    avatar: str | None
    status: str
    source_id: str | None = None
    erased: bool = False
    """Erased after leaving: the names read "removed" for good."""


class FamilyPupilView(BaseModel):
    """A pupil as their parents and they themselves see them: no surname."""

    pupil_id: str
    display_name: str
    year_group_id: str
    class_id: str
    avatar: str | None
    status: str


class ClassNames(BaseModel):
    class_id: str
    names: list[str]


class StaffView(BaseModel):
    staff_id: str
    display_name: str
    email: str
    role: StaffRole
    class_ids: list[str]
    status: str
    source_id: str | None = None
    erased: bool = False


class SchoolWayView(BaseModel):
    school_way_id: str
    name: str
    description: str
    icon: str = ""
    colour: str = ""
    status: str


class ImportJob(BaseModel):
    import_id: str
    status: str = Field(
        description="validating, then previewed (nothing changed yet: the report says what"
        " applying would do), then once applied: applying and done; or failed, or expired"
        " (a preview nobody applied within a day)"
    )
    processed: int
    total: int
    source: str
    full: bool
    org: str | None = Field(default=None, description="The school chosen in the file.")
    grade_names: str = "uk"
    replace_terms: bool = False
    report: dict[str, Any] | None = Field(
        description="What the import would do (dry_run true) or did (dry_run false)."
    )
    problem: dict[str, Any] | None = Field(
        description="When failed: the problem (RFC 9457), listing bad rows by file and line."
    )
    reading: dict[str, Any] | None = Field(
        default=None, description="How long the last read of the file took and its peak memory."
    )
    position: int | None = Field(
        default=None,
        description="Once done: the log position it appended up to (0 if nothing), to wait"
        " for at /caught-up before reading what it changed.",
    )
    created_at: str
    previewed_at: str | None = None
    finished_at: str | None


GradeNames = Literal["uk", "us"]


class UploadTooLarge(Problem):
    status, slug, title = 413, "upload-too-large", "The upload is too large"


# -- views of the write side's state ----------------------------------------------------------


def _school_view(school_id: str, state: domain.Roster) -> SchoolView:
    assert state.details is not None
    return SchoolView.model_validate(
        {"school_id": school_id, **state.details.model_dump(mode="json")}
    )


def _pupil_view(state: domain.Roster, pupil_id: str) -> PupilView:
    pupil = state.pupils[pupil_id]
    classmates = [
        PupilName(p.pupil_id, p.first_name, p.surname)
        for p in state.pupils.values()
        if p.class_id == pupil.class_id and (p.on_roll or p.pupil_id == pupil_id)
    ]
    return PupilView(
        pupil_id=pupil.pupil_id,
        first_name=pupil.first_name,
        surname=pupil.surname,
        display_name=display_names(classmates)[pupil_id],
        year_group_id=pupil.year_group_id,
        class_id=pupil.class_id,
        avatar=pupil.avatar,
        status="erased" if pupil.erased else "on_roll" if pupil.on_roll else "left",
        source_id=pupil.source_id,
        erased=pupil.erased,
    )


def _staff_view(state: domain.Roster, staff_id: str) -> StaffView:
    member = state.staff[staff_id]
    return StaffView(
        staff_id=member.staff_id,
        display_name=member.display_name,
        email=member.email,
        role=member.role,
        class_ids=sorted(member.class_ids),
        status="active" if member.active else "left",
        source_id=member.source_id,
        erased=member.erased,
    )


def _way_view(state: domain.Roster, way_id: str) -> SchoolWayView:
    way = state.school_ways[way_id]
    return SchoolWayView(
        school_way_id=way.school_way_id,
        name=way.name,
        description=way.description,
        icon=way.icon,
        colour=way.colour,
        status="retired" if way.retired else "active",
    )


# -- writes -----------------------------------------------------------------------------------


async def _change(
    command: domain.Command,
    *,
    school_id: str,
    identity: Identity,
    roster: Roster,
    correlation_id: str,
) -> domain.Roster:
    decided = await handlers.change_roster(
        command,
        roster=roster,
        school_id=school_id,
        actor=identity.subject,
        correlation_id=correlation_id,
    )
    return decided.state


@router.put("", response_model=SchoolView, responses={201: {"model": SchoolView}})
async def put_school(
    school_id: PathId,
    body: SchoolBody,
    identity: Writer,
    roster: RosterDep,
    correlation: CorrelationId,
    response: Response,
) -> SchoolView:
    """Register the school, or change its name, timezone, working hours, terms or week start."""
    decided = await handlers.change_roster(
        domain.RegisterSchool(school_id, body.details()),
        roster=roster,
        school_id=school_id,
        actor=identity.subject,
        correlation_id=correlation,
    )
    if any(isinstance(e.event, SchoolRegistered) for e in decided.events):
        response.status_code = 201
    return _school_view(school_id, decided.state)


@router.post("/year-groups", status_code=201, response_model=YearGroupView)
async def add_year_group(
    school_id: PathId,
    body: YearGroupBody,
    identity: Writer,
    roster: RosterDep,
    correlation: CorrelationId,
) -> YearGroupView:
    """Add a year group (or find the one of that source id or name)."""
    command = domain.AddYearGroup(new_key("yg"), body.name, body.source_id)
    state = await _change(
        command, school_id=school_id, identity=identity, roster=roster, correlation_id=correlation
    )
    group = state.year_groups[domain.resulting_id(state, command)]
    return YearGroupView(
        year_group_id=group.year_group_id, name=group.name, source_id=group.source_id
    )


@router.put(
    "/year-groups/{year_group_id}",
    response_model=YearGroupView,
    responses=problem_responses(401, 403, 404, 409),
)
async def rename_year_group(
    school_id: PathId,
    year_group_id: PathId,
    body: YearGroupChangeBody,
    identity: Writer,
    roster: RosterDep,
    correlation: CorrelationId,
) -> YearGroupView:
    """Rename a year group."""
    state = await _change(
        domain.RenameYearGroup(year_group_id, body.name),
        school_id=school_id,
        identity=identity,
        roster=roster,
        correlation_id=correlation,
    )
    group = state.year_groups[year_group_id]
    return YearGroupView(
        year_group_id=group.year_group_id, name=group.name, source_id=group.source_id
    )


@router.post("/classes", status_code=201, response_model=ClassView)
async def add_class(
    school_id: PathId,
    body: ClassBody,
    identity: Writer,
    roster: RosterDep,
    correlation: CorrelationId,
) -> ClassView:
    """Add a class to a year group (or find the one of that source id, or name in the group)."""
    command = domain.AddClass(new_key("cls"), body.name, body.year_group_id, body.source_id)
    state = await _change(
        command, school_id=school_id, identity=identity, roster=roster, correlation_id=correlation
    )
    klass = state.classes[domain.resulting_id(state, command)]
    return ClassView(
        class_id=klass.class_id,
        name=klass.name,
        year_group_id=klass.year_group_id,
        source_id=klass.source_id,
    )


@router.put(
    "/classes/{class_id}",
    response_model=ClassView,
    responses=problem_responses(401, 403, 404, 409),
)
async def change_class(
    school_id: PathId,
    class_id: PathId,
    body: ClassChangeBody,
    identity: Writer,
    roster: RosterDep,
    correlation: CorrelationId,
) -> ClassView:
    """Rename a class, or put it in another year group."""
    state = await _change(
        domain.ChangeClass(class_id, body.name, body.year_group_id),
        school_id=school_id,
        identity=identity,
        roster=roster,
        correlation_id=correlation,
    )
    klass = state.classes[class_id]
    return ClassView(
        class_id=klass.class_id,
        name=klass.name,
        year_group_id=klass.year_group_id,
        source_id=klass.source_id,
    )


@router.post("/pupils", status_code=201, response_model=PupilView)
async def enrol_pupil(
    school_id: PathId,
    body: PupilBody,
    identity: Writer,
    roster: RosterDep,
    correlation: CorrelationId,
) -> PupilView:
    """Enrol a pupil in a class (or take back a pupil who left, found by their source id)."""
    command = domain.EnrolPupil(
        pupil_id=new_key("pup"),
        first_name=body.first_name,
        surname=body.surname,
        class_id=body.class_id,
        year_group_id=body.year_group_id,
        avatar=body.avatar,
        source_id=body.source_id,
    )
    state = await _change(
        command, school_id=school_id, identity=identity, roster=roster, correlation_id=correlation
    )
    return _pupil_view(state, domain.resulting_id(state, command))


@router.put("/pupils/{pupil_id}/avatar", response_model=PupilView | FamilyPupilView)
async def choose_avatar(
    school_id: PathId,
    pupil_id: PathId,
    body: AvatarBody,
    identity: AvatarChooser,
    roster: RosterDep,
    correlation: CorrelationId,
) -> PupilView | FamilyPupilView:
    """Choose a pupil's monster: the pupil themself, their class's staff or a leader."""
    state = await _change(
        domain.ChooseAvatar(pupil_id, body.avatar),
        school_id=school_id,
        identity=identity,
        roster=roster,
        correlation_id=correlation,
    )
    view = _pupil_view(state, pupil_id)
    if identity.is_staff:
        return view
    return FamilyPupilView.model_validate(handlers.family_view(view.model_dump()))


@router.post("/pupils/{pupil_id}/move", response_model=PupilView)
async def move_pupil(
    school_id: PathId,
    pupil_id: PathId,
    body: MoveBody,
    identity: Writer,
    roster: RosterDep,
    correlation: CorrelationId,
) -> PupilView:
    """Move a pupil to another class."""
    state = await _change(
        domain.MovePupil(pupil_id, body.class_id, body.year_group_id),
        school_id=school_id,
        identity=identity,
        roster=roster,
        correlation_id=correlation,
    )
    return _pupil_view(state, pupil_id)


@router.post("/pupils/{pupil_id}/leave", response_model=PupilView)
async def mark_pupil_left(
    school_id: PathId,
    pupil_id: PathId,
    identity: Writer,
    roster: RosterDep,
    correlation: CorrelationId,
) -> PupilView:
    """Mark a pupil as having left; their record stays."""
    state = await _change(
        domain.MarkPupilLeft(pupil_id),
        school_id=school_id,
        identity=identity,
        roster=roster,
        correlation_id=correlation,
    )
    return _pupil_view(state, pupil_id)


@router.post(
    "/pupils/{pupil_id}/erase",
    response_model=PupilView,
    responses=problem_responses(401, 403, 404, 409, 503),
)
async def erase_pupil(
    school_id: PathId,
    pupil_id: PathId,
    identity: Writer,
    roster: RosterDep,
    correlation: CorrelationId,
) -> PupilView:
    """Erase a pupil who has left: every personal value about them (names, the school's own
    id for them, their portfolio, notes and reasons about them) becomes "removed" for good,
    and their photos are deleted. Their points stay, as numbers, so class totals hold."""
    decided = await handlers.erase_pupil(
        school_id, pupil_id, roster=roster, actor=identity.subject, correlation_id=correlation
    )
    return _pupil_view(decided.state, pupil_id)


@router.post("/staff", status_code=201, response_model=StaffView)
async def add_staff_member(
    school_id: PathId,
    body: StaffBody,
    identity: Writer,
    roster: RosterDep,
    correlation: CorrelationId,
) -> StaffView:
    """Add a member of staff with their role and classes (found by source id or email)."""
    command = domain.AddStaffMember(
        staff_id=new_key("stf"),
        display_name=body.display_name,
        email=body.email,
        role=body.role,
        class_ids=frozenset(body.class_ids),
        source_id=body.source_id,
    )
    state = await _change(
        command, school_id=school_id, identity=identity, roster=roster, correlation_id=correlation
    )
    return _staff_view(state, domain.resulting_id(state, command))


@router.put(
    "/staff/{staff_id}",
    response_model=StaffView,
    responses=problem_responses(401, 403, 404, 409),
)
async def change_staff_member(
    school_id: PathId,
    staff_id: PathId,
    body: StaffChangeBody,
    identity: Writer,
    roster: RosterDep,
    correlation: CorrelationId,
) -> StaffView:
    """Give a member of staff another role, or other classes (their classes are all of
    ``class_ids``). Nobody changes their own role."""
    state = await _change(
        domain.ChangeStaffMember(
            staff_id, body.role, frozenset(body.class_ids), by=identity.subject
        ),
        school_id=school_id,
        identity=identity,
        roster=roster,
        correlation_id=correlation,
    )
    return _staff_view(state, staff_id)


class RetentionView(BaseModel):
    model_config = ConfigDict(extra="forbid")

    leavers_kept_days: int | None = Field(default=None, ge=0, le=3650)
    """None: until the end of the next term after they left (120 days without term dates)."""
    points_kept_months: int = Field(default=12, ge=1, le=120)
    messages_kept_months: int = Field(default=24, ge=1, le=120)


class RetentionRun(BaseModel):
    erased: list[str]
    """The leavers erased now, their time having come."""
    points_weeks_erased: int = 0
    """Weeks of points erased now, past the school's ``points_kept_months``."""


@router.get("/retention", response_model=RetentionView, responses=problem_responses(401, 403, 404))
async def read_retention(school_id: PathId, identity: Staff, roster: RosterDep) -> RetentionView:
    """How long the school keeps each kind of data."""
    doc = await handlers.school(school_id, roster=roster)
    return RetentionView.model_validate(doc.get("retention") or {})


@router.put("/retention", response_model=RetentionView, responses=problem_responses(401, 403, 404))
async def set_retention(
    school_id: PathId,
    body: RetentionView,
    identity: Writer,
    roster: RosterDep,
    correlation: CorrelationId,
) -> RetentionView:
    """Set how long the school keeps each kind of data (leaders)."""
    state = await _change(
        domain.SetRetention(Retention(**body.model_dump()), set_by=identity.subject),
        school_id=school_id,
        identity=identity,
        roster=roster,
        correlation_id=correlation,
    )
    return RetentionView(**state.retention.model_dump())


@router.post("/retention/run", response_model=RetentionRun, responses=problem_responses(401, 403))
async def run_retention(school_id: PathId, identity: Writer, roster: RosterDep) -> RetentionRun:
    """Erase now the leavers and the points whose time has come (it also happens every hour
    by itself)."""
    erased = await handlers.erase_due_leavers(roster=roster, school_id=school_id)
    weeks = await handlers.erase_old_points(roster=roster, school_id=school_id)
    return RetentionRun(erased=erased, points_weeks_erased=weeks)


@router.post(
    "/staff/{staff_id}/leave",
    response_model=StaffView,
    responses=problem_responses(401, 403, 404, 409),
)
async def mark_staff_left(
    school_id: PathId,
    staff_id: PathId,
    identity: Writer,
    roster: RosterDep,
    correlation: CorrelationId,
) -> StaffView:
    """Mark a member of staff as having left: they can no longer sign in to this school.
    Nobody marks themself as left."""
    state = await _change(
        domain.MarkStaffLeft(staff_id, by=identity.subject),
        school_id=school_id,
        identity=identity,
        roster=roster,
        correlation_id=correlation,
    )
    return _staff_view(state, staff_id)


@router.post(
    "/staff/{staff_id}/erase",
    response_model=StaffView,
    responses=problem_responses(401, 403, 404, 409, 503),
)
async def erase_staff_member(
    school_id: PathId,
    staff_id: PathId,
    identity: Writer,
    roster: RosterDep,
    correlation: CorrelationId,
) -> StaffView:
    """Erase a member of staff who has left: their name and email read "removed" for good,
    and so do their comments; the stories and notes they wrote for the school stay."""
    decided = await handlers.erase_staff_member(
        school_id, staff_id, roster=roster, actor=identity.subject, correlation_id=correlation
    )
    return _staff_view(decided.state, staff_id)


@router.post("/school-ways", status_code=201, response_model=SchoolWayView)
async def add_school_way(
    school_id: PathId,
    body: SchoolWayBody,
    identity: Writer,
    roster: RosterDep,
    correlation: CorrelationId,
) -> SchoolWayView:
    """Add one of the school's values that points are awarded for."""
    command = domain.AddSchoolWay(
        new_key("way"), body.name, body.description, icon=body.icon, colour=body.colour
    )
    state = await _change(
        command, school_id=school_id, identity=identity, roster=roster, correlation_id=correlation
    )
    return _way_view(state, domain.resulting_id(state, command))


@router.put(
    "/school-ways/{school_way_id}",
    response_model=SchoolWayView,
    responses=problem_responses(401, 403, 404, 409),
)
async def change_school_way(
    school_id: PathId,
    school_way_id: PathId,
    body: SchoolWayBody,
    identity: Writer,
    roster: RosterDep,
    correlation: CorrelationId,
) -> SchoolWayView:
    """Rename one of the school's values, or change its words, icon or colour."""
    state = await _change(
        domain.ChangeSchoolWay(
            school_way_id, body.name, body.description, icon=body.icon, colour=body.colour
        ),
        school_id=school_id,
        identity=identity,
        roster=roster,
        correlation_id=correlation,
    )
    return _way_view(state, school_way_id)


@router.post("/school-ways/{school_way_id}/retire", response_model=SchoolWayView)
async def retire_school_way(
    school_id: PathId,
    school_way_id: PathId,
    identity: Writer,
    roster: RosterDep,
    correlation: CorrelationId,
) -> SchoolWayView:
    """Retire a school way: no new points for it; past points keep it."""
    state = await _change(
        domain.RetireSchoolWay(school_way_id),
        school_id=school_id,
        identity=identity,
        roster=roster,
        correlation_id=correlation,
    )
    return _way_view(state, school_way_id)


_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/zip": {"schema": {"type": "string", "format": "binary"}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}


async def _read_body(request: Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise UploadTooLarge(f"uploads are limited to {limit // (1024 * 1024)} MB")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/imports",
    status_code=202,
    response_model=ImportJob,
    openapi_extra=_UPLOAD_BODY,
    dependencies=[allow_body(lambda r: r.app.state.roster.max_upload_bytes)],
)
async def start_import(
    school_id: PathId,
    request: Request,
    identity: Writer,
    roster: RosterDep,
    correlation: CorrelationId,
    response: Response,
    full: Annotated[
        bool,
        Query(
            description="The file lists the whole school: pupils and staff missing from it"
            " have left (never whoever imports it, nor staff added by hand)."
        ),
    ] = False,
    org: Annotated[
        SourceId | None,
        Query(description="Which of the file's schools is this one (a district file)."),
    ] = None,
    grade_names: Annotated[
        GradeNames,
        Query(description="How new year groups are named: uk (Year 3) or us (Grade 3)."),
    ] = "uk",
    replace_terms: Annotated[
        bool,
        Query(
            description="The school's terms become the file's (only for this school's own"
            " file); without it they stay as the school set them."
        ),
    ] = False,
) -> ImportJob:
    """Preview an import of a OneRoster 1.2 zip or a one-row-per-pupil CSV: nothing changes
    until it is applied."""
    data = await _read_body(request, roster.max_upload_bytes)
    job = await handlers.start_import(
        request.headers.get("content-type", ""),
        data,
        roster=roster,
        school_id=school_id,
        full=full,
        org=org,
        grade_names=grade_names,
        replace_terms=replace_terms,
        actor=identity.subject,
        correlation_id=correlation,
    )
    response.headers["location"] = f"/schools/{school_id}/imports/{job['import_id']}"
    return ImportJob.model_validate(job)


@router.post("/imports/{import_id}/apply", status_code=202, response_model=ImportJob)
async def apply_import(
    school_id: PathId,
    import_id: PathId,
    identity: Writer,
    roster: RosterDep,
    correlation: CorrelationId,
    response: Response,
) -> ImportJob:
    """Apply a previewed import to the roster as it is now."""
    job = await handlers.apply_import(
        school_id, import_id, roster=roster, actor=identity.subject, correlation_id=correlation
    )
    response.headers["location"] = f"/schools/{school_id}/imports/{import_id}"
    return ImportJob.model_validate(job)


@router.get("/imports/{import_id}", response_model=ImportJob)
async def get_import(
    school_id: PathId, import_id: PathId, identity: Writer, roster: RosterDep
) -> ImportJob:
    """An import's progress, then its report (or the rows that stopped it)."""
    job = await handlers.import_job(school_id, import_id, roster=roster)
    if job is None:
        raise domain.EntryNotFound(f"this school has no import {import_id}")
    return ImportJob.model_validate(job)


# -- reads --------------------------------------------------------------------------------------


@router.get("", response_model=SchoolView)
async def get_school(school_id: PathId, identity: Member, roster: RosterDep) -> SchoolView:
    """The school's name, timezone, working hours, terms and week start."""
    return SchoolView.model_validate(await handlers.school(school_id, roster=roster))


@router.get("/school-ways", response_model=list[SchoolWayView])
async def list_school_ways(
    school_id: PathId, identity: Member, roster: RosterDep
) -> list[SchoolWayView]:
    """The school's values, retired ones included."""
    found = await handlers.school_ways(school_id, roster=roster)
    return [SchoolWayView.model_validate(d) for d in found]


@router.get("/year-groups", response_model=list[YearGroupView])
async def list_year_groups(
    school_id: PathId, identity: Staff, roster: RosterDep
) -> list[YearGroupView]:
    """The school's year groups."""
    found = await handlers.year_groups(school_id, roster=roster)
    return [YearGroupView.model_validate(d) for d in found]


@router.get("/classes", response_model=list[ClassView])
async def list_classes(school_id: PathId, identity: Staff, roster: RosterDep) -> list[ClassView]:
    """The school's classes."""
    found = await handlers.classes(school_id, roster=roster)
    return [ClassView.model_validate(d) for d in found]


@router.get("/classes/{class_id}", response_model=ClassView)
async def get_class(
    school_id: PathId, class_id: PathId, identity: Staff, roster: RosterDep
) -> ClassView:
    """One class."""
    return ClassView.model_validate(await handlers.school_class(school_id, class_id, roster=roster))


@router.get("/classes/{class_id}/pupils", response_model=list[PupilView])
async def list_class_pupils(
    school_id: PathId, class_id: PathId, identity: Staff, roster: RosterDep
) -> list[PupilView]:
    """A class's pupils on roll, with full names: for staff."""
    await handlers.school_class(school_id, class_id, roster=roster)
    found = await handlers.pupils(school_id, class_id=class_id, roster=roster)
    return [PupilView.model_validate(d) for d in found]


@router.get("/classes/{class_id}/names", response_model=ClassNames)
async def list_class_names(
    school_id: PathId, class_id: PathId, identity: ClassReader, roster: RosterDep
) -> ClassNames:
    """The names a class's families see (first names, told apart where two share one)."""
    await handlers.school_class(school_id, class_id, roster=roster)
    names = await handlers.class_names(school_id, class_id, roster=roster)
    return ClassNames(class_id=class_id, names=names)


@router.get("/pupils", response_model=list[PupilView])
async def list_pupils(
    school_id: PathId,
    identity: Staff,
    roster: RosterDep,
    class_id: Annotated[str | None, Query(pattern=domain.ID_PATTERN)] = None,
    year_group_id: Annotated[str | None, Query(pattern=domain.ID_PATTERN)] = None,
    include_left: bool = False,
) -> list[PupilView]:
    """The school's pupils, by class or year group: for staff."""
    found = await handlers.pupils(
        school_id,
        class_id=class_id,
        year_group_id=year_group_id,
        include_left=include_left,
        roster=roster,
    )
    return [PupilView.model_validate(d) for d in found]


@router.get("/pupils/{pupil_id}", response_model=PupilView | FamilyPupilView)
async def get_pupil(
    school_id: PathId, pupil_id: PathId, identity: PupilReader, roster: RosterDep
) -> PupilView | FamilyPupilView:
    """One pupil: staff see their full name, their family and they see the class's name."""
    doc = await handlers.pupil(school_id, pupil_id, roster=roster)
    if identity.is_staff:
        return PupilView.model_validate(doc)
    return FamilyPupilView.model_validate(handlers.family_view(doc))


@router.get("/staff", response_model=list[StaffView])
async def list_staff(
    school_id: PathId, identity: Staff, roster: RosterDep, include_left: bool = False
) -> list[StaffView]:
    """The school's staff, their roles and classes."""
    found = await handlers.staff(school_id, include_left=include_left, roster=roster)
    return [StaffView.model_validate(d) for d in found]


def create_app(roster: Roster) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await handlers.resume_imports(roster=roster)
        # every replica may run it: erasing what is erased already is a no-op
        roster.spawn(
            handlers.keep_to_retention(roster=roster, every=RETENTION_EVERY), "roster-retention"
        )
        try:
            yield
        finally:
            await roster.stop_background()

    kit = Kit(
        name="roster",
        settings=roster.settings,
        clock=roster.clock,
        ready_checks={"event_store": roster.store.ping, "read_models": roster.readmodels.ping},
    )
    app = create_service_app(kit, routers=[router], lifespan=lifespan)
    app.state.roster = roster
    return app
