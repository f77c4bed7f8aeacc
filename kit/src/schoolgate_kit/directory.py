"""What a service keeps of the roster's facts: its pupils and schools, folded one way.

Several services need to know who is in which class, a school's clock and its values, and
may not ask roster on the request path. Each keeps its own read model, under its own name,
built by these two projections.
"""

from __future__ import annotations

from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.roster import (
    ClassAdded,
    ClassDetailsChanged,
    PupilAvatarChosen,
    PupilDetailsChanged,
    PupilEnrolled,
    PupilLeft,
    PupilMovedClass,
    SchoolDetailsChanged,
    SchoolRegistered,
    SchoolWayAdded,
    SchoolWayRetired,
    YearGroupAdded,
    YearGroupRenamed,
)

from schoolgate_kit.projections import Projection
from schoolgate_kit.readmodels import Doc


def _pupil(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    match event:
        case PupilEnrolled():
            return {
                "pupil_id": event.pupil_id,
                "school_id": recorded.metadata.school_id,
                "first_name": event.first_name,
                "surname": event.surname,
                "class_id": event.class_id,
                "year_group_id": event.year_group_id,
                "avatar": event.avatar,
                "left": False,
            }
        case PupilDetailsChanged() if doc:
            return {**doc, "first_name": event.first_name, "surname": event.surname}
        case PupilAvatarChosen() if doc:
            return {**doc, "avatar": event.avatar}
        case PupilMovedClass() if doc:
            return {**doc, "class_id": event.to_class_id, "year_group_id": event.year_group_id}
        case PupilLeft() if doc:
            return {**doc, "left": True}
    return doc


def _school(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    doc = doc or {
        "school_id": recorded.metadata.school_id,
        "name": "",
        "classes": {},
        "school_ways": {},
    }
    doc = {"year_groups": {}, "class_year_groups": {}, **doc}
    match event:
        case SchoolRegistered() | SchoolDetailsChanged():
            details = event.details
            return {
                **doc,
                "name": details.name,
                "timezone": details.timezone,
                "week_starts_on": details.week_start,
            }
        case YearGroupAdded() | YearGroupRenamed():
            return {**doc, "year_groups": {**doc["year_groups"], event.year_group_id: event.name}}
        case ClassAdded() | ClassDetailsChanged():
            return {
                **doc,
                "classes": {**doc["classes"], event.class_id: event.name},
                "class_year_groups": {
                    **doc["class_year_groups"],
                    event.class_id: event.year_group_id,
                },
            }
        case SchoolWayAdded():
            return {**doc, "school_ways": {**doc["school_ways"], event.school_way_id: event.name}}
        case SchoolWayRetired():
            ways = {k: v for k, v in doc["school_ways"].items() if k != event.school_way_id}
            return {**doc, "school_ways": ways}
    return doc


def pupils_projection(name: str) -> Projection:
    """Pupils by id: school, names, class and year group, monster, and whether they left."""
    return Projection(
        name=name,
        handles=(PupilEnrolled, PupilDetailsChanged, PupilAvatarChosen, PupilMovedClass, PupilLeft),
        key=lambda recorded: str(getattr(recorded.event, "pupil_id")),  # noqa: B009
        evolve=_pupil,
    )


def schools_projection(name: str) -> Projection:
    """Schools by id: name, timezone, first day of the week, year groups, classes (and the
    year group of each) and current values."""
    return Projection(
        name=name,
        handles=(
            SchoolRegistered,
            SchoolDetailsChanged,
            YearGroupAdded,
            YearGroupRenamed,
            ClassAdded,
            ClassDetailsChanged,
            SchoolWayAdded,
            SchoolWayRetired,
        ),
        key=lambda recorded: recorded.metadata.school_id,
        evolve=_school,
    )
