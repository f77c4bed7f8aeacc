"""The points service's HTTP API."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, FastAPI, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from schoolgate_kit.app import Kit, create_service_app

from schoolgate_points import domain, handlers
from schoolgate_points.bootstrap import Points
from schoolgate_points.deps import Awarder, CorrelationId, PointsDep, PupilReader, require_class

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
PathId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]

router = APIRouter(prefix="/schools/{school_id}", tags=["points"])


class AwardRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pupil_id: Id
    school_way_id: Id
    class_id: Id | None = None
    award_id: uuid.UUID | None = Field(
        default=None, description="Send your own id to make retries safe."
    )


class AwardResponse(BaseModel):
    award_id: str
    pupil_id: str
    school_way_id: str
    class_id: str | None
    school_date: date
    week_start: date


class WeeklyTotal(BaseModel):
    pupil_id: str
    week_start: date
    total: int
    by_way: dict[str, int]


@router.post("/awards", status_code=201, response_model=AwardResponse)
async def award(
    school_id: PathId,
    body: AwardRequest,
    identity: Awarder,
    points: PointsDep,
    correlation: CorrelationId,
) -> AwardResponse:
    """Award a pupil a point for one of the school's values."""
    require_class(identity, body.class_id)
    awarded = await handlers.award_point(
        domain.AwardPoint(
            award_id=(body.award_id or points.new_id()).hex,
            pupil_id=body.pupil_id,
            class_id=body.class_id,
            school_way_id=body.school_way_id,
            awarded_by=identity.subject,
        ),
        points=points,
        school_id=school_id,
        correlation_id=correlation,
    )
    return AwardResponse(
        award_id=awarded.award_id,
        pupil_id=awarded.pupil_id,
        school_way_id=awarded.school_way_id,
        class_id=awarded.class_id,
        school_date=awarded.school_date,
        week_start=domain.week_start(awarded.school_date),
    )


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
    """A pupil's points in one school week (Monday to Sunday, school time)."""
    day = week or domain.school_date(points.clock(), points.settings.school_timezone)
    start = domain.week_start(day).isoformat()
    return WeeklyTotal.model_validate(await handlers.weekly_total(pupil_id, start, points=points))


def create_app(points: Points) -> FastAPI:
    kit = Kit(
        name="points",
        settings=points.settings,
        clock=points.clock,
        ready_checks={"event_store": points.store.ping, "read_models": points.readmodels.ping},
    )
    app = create_service_app(kit, routers=[router])
    app.state.points = points
    return app
