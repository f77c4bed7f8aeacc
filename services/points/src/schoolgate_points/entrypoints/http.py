"""The points service's HTTP API."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from schoolgate_contracts.points import PointKind
from schoolgate_kit.app import Kit, create_service_app
from schoolgate_kit.identity import CLASSROOM_ROLES, CurrentIdentity, Role
from schoolgate_kit.problems import Forbidden

from schoolgate_points import domain, handlers
from schoolgate_points.bootstrap import Points
from schoolgate_points.deps import (
    Awarder,
    ClassViewer,
    CorrelationId,
    Leader,
    PointsDep,
    PupilReader,
    Reporter,
    Staff,
    require_class,
)
from schoolgate_points.projections import PUPILS

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
PathId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
After = Annotated[
    int | None,
    Query(ge=0, description="A position from a live update: answer only once it is counted."),
]
MAX_PUPILS_PER_AWARD = 200

router = APIRouter(prefix="/schools/{school_id}", tags=["points"])


class AwardRequest(BaseModel):
    """One pupil (``pupil_id``), several (``pupil_ids``) or ``whole_class``: exactly one."""

    model_config = ConfigDict(extra="forbid")

    pupil_id: Id | None = None
    pupil_ids: list[Id] | None = Field(default=None, min_length=1, max_length=MAX_PUPILS_PER_AWARD)
    whole_class: bool = False
    school_way_id: Id
    class_id: Id | None = None
    kind: PointKind = "positive"
    award_id: uuid.UUID | None = Field(
        default=None, description="Send your own id to make retries safe."
    )

    @model_validator(mode="after")
    def _one_way_of_choosing(self) -> AwardRequest:
        chosen = [self.pupil_id is not None, self.pupil_ids is not None, self.whole_class]
        if sum(chosen) != 1:
            raise ValueError("give exactly one of pupil_id, pupil_ids or whole_class")
        if self.whole_class and self.class_id is None:
            raise ValueError("a whole-class award needs class_id")
        return self

    @property
    def chosen(self) -> tuple[str, ...]:
        if self.pupil_id is not None:
            return (self.pupil_id,)
        return tuple(dict.fromkeys(self.pupil_ids or ()))


class AwardResponse(BaseModel):
    award_id: str
    pupil_id: str
    """The first pupil; ``pupil_ids`` has them all."""
    pupil_ids: list[str]
    school_way_id: str
    class_id: str | None
    kind: PointKind
    school_date: date
    week_start: date
    awarded_at: datetime
    undo_until: datetime


class UndoResponse(BaseModel):
    award_id: str
    pupil_ids: list[str]
    undone: Literal[True] = True


class Tally(BaseModel):
    total: int
    by_way: dict[str, int]
    needs_work: int = 0


class WeeklyTotal(Tally):
    pupil_id: str
    week_start: date


class Today(Tally):
    date: date


class Week(Tally):
    week_start: date


class TargetProgress(BaseModel):
    points_per_day: int | None
    set_by_role: str | None
    reached: bool


class WeekTotal(BaseModel):
    week_start: date
    total: int


class Summary(BaseModel):
    pupil_id: str
    today: Today
    week: Week
    target: TargetProgress
    history: list[WeekTotal]
    best_week: WeekTotal | None


class TargetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    points_per_day: int | None = Field(ge=1, le=50)


class Target(BaseModel):
    pupil_id: str
    points_per_day: int | None
    set_by_role: str


class ClassTotal(BaseModel):
    class_id: str
    week_start: date
    total: int
    today: int


class PupilRow(Tally):
    pupil_id: str
    name: str


class Report(Tally):
    class_id: str
    from_: date = Field(alias="from")
    to: date
    school_ways: dict[str, str]
    pupils: list[PupilRow]

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class PointsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    needs_work_enabled: bool
    undo_window_seconds: int = Field(ge=10, le=600)


@router.post("/awards", status_code=201, response_model=AwardResponse)
async def award(
    school_id: PathId,
    body: AwardRequest,
    identity: Awarder,
    points: PointsDep,
    correlation: CorrelationId,
) -> AwardResponse:
    """Award a point for one of the school's values to a pupil, a group or the whole class."""
    require_class(identity, body.class_id)
    pupil_ids, rules = await handlers.pupils_to_award(
        school_id,
        body.class_id,
        body.school_way_id,
        body.chosen,
        whole_class=body.whole_class,
        kind=body.kind,
        points=points,
    )
    given = await handlers.award_points(
        domain.AwardPoints(
            award_id=(body.award_id or points.new_id()).hex,
            pupil_ids=pupil_ids,
            class_id=body.class_id,
            school_way_id=body.school_way_id,
            awarded_by=identity.subject,
            kind=body.kind,
        ),
        points=points,
        school_id=school_id,
        school_rules=rules,
        correlation_id=correlation,
    )
    first = given.awarded[0]
    return AwardResponse(
        award_id=first.award_id,
        pupil_id=first.pupil_id,
        pupil_ids=[a.pupil_id for a in given.awarded],
        school_way_id=first.school_way_id,
        class_id=first.class_id,
        kind=first.kind,
        school_date=first.school_date,
        week_start=first.week_start,
        awarded_at=first.awarded_at,
        undo_until=given.undo_until,
    )


@router.post("/awards/{award_id}/undo", response_model=UndoResponse)
async def undo(
    school_id: PathId,
    award_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
    identity: Awarder,
    points: PointsDep,
    correlation: CorrelationId,
) -> UndoResponse:
    """Take an award back within the school's undo window (60 seconds unless set)."""
    undone = await handlers.undo_award(
        domain.UndoAward(
            award_id=award_id,
            undone_by=identity.subject,
            may_undo_others=identity.role is Role.leader,
        ),
        points=points,
        school_id=school_id,
        correlation_id=correlation,
    )
    return UndoResponse(award_id=award_id, pupil_ids=[u.pupil_id for u in undone])


@router.get("/pupils/{pupil_id}/weekly-total", response_model=WeeklyTotal)
async def weekly_total(
    school_id: PathId,
    pupil_id: PathId,
    identity: PupilReader,
    points: PointsDep,
    week: Annotated[
        date | None, Query(description="Any day of the week; default this week")
    ] = None,
) -> WeeklyTotal:
    """A pupil's points in one school week (school time)."""
    rules = await handlers.school_clock(school_id, points=points)
    day = week or domain.school_date(points.clock(), rules.timezone)
    start = domain.week_start(day, rules.week_starts_on).isoformat()
    return WeeklyTotal.model_validate(await handlers.weekly_total(pupil_id, start, points=points))


@router.get("/pupils/{pupil_id}/summary", response_model=Summary)
async def summary(
    school_id: PathId,
    pupil_id: PathId,
    identity: PupilReader,
    points: PointsDep,
    after: After = None,
) -> Summary:
    """One child's points today and this week, their target, history and best week."""
    await handlers.caught_up_with(after, points=points)
    return Summary.model_validate(
        await handlers.summary(pupil_id, school_id=school_id, points=points)
    )


@router.put("/pupils/{pupil_id}/target", response_model=Target)
async def set_target(
    school_id: PathId,
    pupil_id: PathId,
    body: TargetRequest,
    identity: CurrentIdentity,
    points: PointsDep,
    correlation: CorrelationId,
) -> Target:
    """Set (or, with null, take away) a child's own daily target: their parent or teacher."""
    if identity.school_id != school_id:
        raise Forbidden("that is another school")
    pupil = await points.readmodels.get(PUPILS, pupil_id)
    in_school = pupil is not None and pupil["school_id"] == school_id
    allowed = (
        (identity.role is Role.parent and pupil_id in identity.pupil_ids)
        or (identity.role is Role.leader and in_school)
        or (
            identity.role in CLASSROOM_ROLES
            and in_school
            and pupil is not None
            and pupil["class_id"] in identity.class_ids
        )
    )
    if not allowed:
        raise Forbidden("only the child's parents and teachers set their target")
    return Target.model_validate(
        await handlers.set_target(
            pupil_id,
            body.points_per_day,
            identity=identity,
            points=points,
            school_id=school_id,
            correlation_id=correlation,
        )
    )


@router.get("/classes/{class_id}/total", response_model=ClassTotal)
async def class_total(
    school_id: PathId,
    class_id: PathId,
    identity: ClassViewer,
    points: PointsDep,
    after: After = None,
) -> ClassTotal:
    """The whole class's points this week and today: the class screen's one number."""
    await handlers.caught_up_with(after, points=points)
    return ClassTotal.model_validate(
        await handlers.class_total(class_id, school_id=school_id, points=points)
    )


@router.get("/classes/{class_id}/report", response_model=Report)
async def class_report(
    school_id: PathId,
    class_id: PathId,
    identity: Reporter,
    points: PointsDep,
    first: Annotated[date, Query(alias="from")],
    last: Annotated[date, Query(alias="to")],
    format: Literal["json", "csv"] = "json",
) -> Response | Report:
    """A class's points by pupil and by value over a period, as JSON or a CSV file."""
    report = await handlers.class_report(class_id, first, last, school_id=school_id, points=points)
    if format == "csv":
        filename = f"points-{class_id}-{first.isoformat()}-to-{last.isoformat()}.csv"
        return Response(
            handlers.report_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{filename}"'},
        )
    return Report.model_validate(report)


@router.get("/settings", response_model=PointsSettings)
async def read_settings(school_id: PathId, identity: Staff, points: PointsDep) -> PointsSettings:
    """How this school gives points."""
    rules = await handlers.rules(school_id, points=points)
    return PointsSettings(
        needs_work_enabled=rules.needs_work_enabled,
        undo_window_seconds=rules.undo_window_seconds,
    )


@router.put("/settings", response_model=PointsSettings)
async def change_settings(
    school_id: PathId,
    body: PointsSettings,
    identity: Leader,
    points: PointsDep,
    correlation: CorrelationId,
) -> PointsSettings:
    """Leaders turn "needs work" points on or off and set the undo window."""
    rules = await handlers.change_settings(
        body.needs_work_enabled,
        body.undo_window_seconds,
        identity=identity,
        points=points,
        school_id=school_id,
        correlation_id=correlation,
    )
    return PointsSettings(
        needs_work_enabled=rules.needs_work_enabled,
        undo_window_seconds=rules.undo_window_seconds,
    )


def create_app(points: Points) -> FastAPI:
    kit = Kit(
        name="points",
        settings=points.settings,
        clock=points.clock,
        ready_checks={"event_store": points.store.ping, "read_models": points.readmodels.ping},
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with points.facts.following(points.store):
            yield

    app = create_service_app(kit, routers=[router], lifespan=lifespan)
    app.state.points = points
    return app
