"""Command and query handlers: the message first, named dependencies after."""

from __future__ import annotations

from schoolgate_contracts import Metadata
from schoolgate_contracts.points import PointAwarded
from schoolgate_kit.commands import execute
from schoolgate_kit.projections import strip
from schoolgate_kit.readmodels import Doc

from schoolgate_points import domain
from schoolgate_points.bootstrap import Points
from schoolgate_points.projections import WEEKLY_TOTALS, weekly_total_key


async def award_point(
    command: domain.AwardPoint, *, points: Points, school_id: str, correlation_id: str
) -> PointAwarded:
    now = points.clock()
    decided = await execute(
        points.store,
        domain.award_stream(command.award_id),
        initial=domain.initial_state,
        evolve=domain.evolve,
        decide=lambda state: domain.decide_award(
            state, command, now, points.settings.school_timezone
        ),
        metadata=Metadata(
            occurred_at=now,
            school_id=school_id,
            actor=command.awarded_by,
            correlation_id=correlation_id,
        ),
        new_id=points.new_id,
    )
    awarded = decided.state.awarded
    assert awarded is not None
    return awarded


async def weekly_total(pupil_id: str, week: str, *, points: Points) -> Doc:
    doc = strip(await points.readmodels.get(WEEKLY_TOTALS, weekly_total_key(pupil_id, week)))
    return doc or {"pupil_id": pupil_id, "week_start": week, "total": 0, "by_way": {}}
