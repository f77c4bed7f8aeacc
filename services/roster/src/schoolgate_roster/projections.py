"""Read models of the roster service: one document per school, year group, class, pupil,
member of staff and school way, each keyed by school first so no query crosses schools."""

from __future__ import annotations

from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.privacy import REMOVED
from schoolgate_contracts.roster import (
    ClassAdded,
    ClassDetailsChanged,
    PupilAvatarChosen,
    PupilDetailsChanged,
    PupilEnrolled,
    PupilErased,
    PupilLeft,
    PupilMovedClass,
    Retention,
    RetentionSet,
    SchoolDetailsChanged,
    SchoolRegistered,
    SchoolWayAdded,
    SchoolWayChanged,
    SchoolWayRetired,
    StaffAssignedToClass,
    StaffDetailsChanged,
    StaffMemberAdded,
    StaffMemberErased,
    StaffMemberLeft,
    StaffRoleChanged,
    StaffUnassignedFromClass,
    YearGroupAdded,
    YearGroupRenamed,
)
from schoolgate_kit.projections import Projection
from schoolgate_kit.readmodels import Doc

SCHOOLS = "roster.schools"
YEAR_GROUPS = "roster.year_groups"
CLASSES = "roster.classes"
PUPILS = "roster.pupils"
STAFF = "roster.staff"
SCHOOL_WAYS = "roster.school_ways"

ON_ROLL, LEFT, ERASED = "on_roll", "left", "erased"
ACTIVE, RETIRED = "active", "retired"


def entry_key(school_id: str, entry_id: str) -> str:
    """Ids are unique within a school only; ids never hold ':'."""
    return f"{school_id}:{entry_id}"


def _school_key(recorded: RecordedEvent) -> str:
    return recorded.metadata.school_id


def _school(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    before = doc or {"retention": Retention().model_dump(mode="json")}
    if isinstance(event, RetentionSet):
        return {**before, "retention": event.retention.model_dump(mode="json")}
    assert isinstance(event, SchoolRegistered | SchoolDetailsChanged)
    return {
        **before,
        "school_id": recorded.metadata.school_id,
        **event.details.model_dump(mode="json"),
    }


def _year_group_key(recorded: RecordedEvent) -> str:
    event = recorded.event
    assert isinstance(event, YearGroupAdded | YearGroupRenamed)
    return entry_key(recorded.metadata.school_id, event.year_group_id)


def _year_group(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    if isinstance(event, YearGroupRenamed):
        assert doc is not None
        return {**doc, "name": event.name}
    assert isinstance(event, YearGroupAdded)
    return {
        "school_id": recorded.metadata.school_id,
        "year_group_id": event.year_group_id,
        "name": event.name,
        "source_id": event.source_id,
    }


def _class_key(recorded: RecordedEvent) -> str:
    event = recorded.event
    assert isinstance(event, ClassAdded | ClassDetailsChanged)
    return entry_key(recorded.metadata.school_id, event.class_id)


def _class(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    if isinstance(event, ClassDetailsChanged):
        assert doc is not None
        return {**doc, "name": event.name, "year_group_id": event.year_group_id}
    assert isinstance(event, ClassAdded)
    return {
        "school_id": recorded.metadata.school_id,
        "class_id": event.class_id,
        "name": event.name,
        "year_group_id": event.year_group_id,
        "source_id": event.source_id,
    }


PupilEvent = (
    PupilEnrolled
    | PupilDetailsChanged
    | PupilAvatarChosen
    | PupilMovedClass
    | PupilLeft
    | PupilErased
)


def _pupil_key(recorded: RecordedEvent) -> str:
    event = recorded.event
    assert isinstance(event, PupilEvent)
    return entry_key(recorded.metadata.school_id, event.pupil_id)


def _pupil(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    match event:
        case PupilEnrolled():
            return {
                "school_id": recorded.metadata.school_id,
                "pupil_id": event.pupil_id,
                "first_name": event.first_name,
                "surname": event.surname,
                "year_group_id": event.year_group_id,
                "class_id": event.class_id,
                "avatar": event.avatar,
                "status": ON_ROLL,
                "source_id": event.source_id,
            }
        case PupilDetailsChanged():
            assert doc is not None
            return {**doc, "first_name": event.first_name, "surname": event.surname}
        case PupilAvatarChosen():
            assert doc is not None
            return {**doc, "avatar": event.avatar}
        case PupilMovedClass():
            assert doc is not None
            return {**doc, "class_id": event.to_class_id, "year_group_id": event.year_group_id}
        case PupilLeft():
            assert doc is not None
            return {**doc, "status": LEFT, "left_at": recorded.metadata.occurred_at.isoformat()}
        case PupilErased():
            assert doc is not None
            # what the key's destruction already did to every read, done to this copy now
            return {
                **doc,
                "first_name": REMOVED,
                "surname": REMOVED,
                "source_id": None,
                "status": ERASED,
                "erased": True,
                "erased_at": recorded.metadata.occurred_at.isoformat(),
                "erased_by": event.erased_by,
            }
    raise AssertionError(f"{PUPILS} does not handle {type(event).__name__}")


StaffEvent = (
    StaffMemberAdded
    | StaffDetailsChanged
    | StaffRoleChanged
    | StaffAssignedToClass
    | StaffUnassignedFromClass
    | StaffMemberLeft
    | StaffMemberErased
)


def _staff_key(recorded: RecordedEvent) -> str:
    event = recorded.event
    assert isinstance(event, StaffEvent)
    return entry_key(recorded.metadata.school_id, event.staff_id)


def _staff(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    if isinstance(event, StaffMemberAdded):
        return {
            "school_id": recorded.metadata.school_id,
            "staff_id": event.staff_id,
            "display_name": event.display_name,
            "email": event.email,
            "role": event.role.value,
            "class_ids": [],
            "status": ACTIVE,
            "source_id": event.source_id,
        }
    assert doc is not None
    match event:
        case StaffDetailsChanged():
            return {**doc, "display_name": event.display_name, "email": event.email}
        case StaffRoleChanged():
            return {**doc, "role": event.role.value}
        case StaffAssignedToClass():
            return {**doc, "class_ids": sorted({*doc["class_ids"], event.class_id})}
        case StaffUnassignedFromClass():
            return {**doc, "class_ids": sorted(set(doc["class_ids"]) - {event.class_id})}
        case StaffMemberLeft():
            return {**doc, "status": LEFT, "class_ids": []}
        case StaffMemberErased():
            return {
                **doc,
                "display_name": REMOVED,
                "email": REMOVED,
                "source_id": None,
                "status": LEFT,
                "class_ids": [],
                "erased": True,
            }
    raise AssertionError(f"{STAFF} does not handle {type(event).__name__}")


def _way_key(recorded: RecordedEvent) -> str:
    event = recorded.event
    assert isinstance(event, SchoolWayAdded | SchoolWayChanged | SchoolWayRetired)
    return entry_key(recorded.metadata.school_id, event.school_way_id)


def _way(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    if isinstance(event, SchoolWayAdded):
        return {
            "school_id": recorded.metadata.school_id,
            "school_way_id": event.school_way_id,
            "name": event.name,
            "description": event.description,
            "icon": event.icon,
            "colour": event.colour,
            "status": ACTIVE,
        }
    assert doc is not None
    if isinstance(event, SchoolWayChanged):
        looks = {"icon": event.icon, "colour": event.colour}
        return {**doc, "name": event.name, "description": event.description, **looks}
    return {**doc, "status": RETIRED}


schools = Projection(
    name=SCHOOLS,
    handles=(SchoolRegistered, SchoolDetailsChanged, RetentionSet),
    key=_school_key,
    evolve=_school,
    version=2,  # and how long the school keeps each kind of data
)
year_groups = Projection(
    name=YEAR_GROUPS,
    handles=(YearGroupAdded, YearGroupRenamed),
    key=_year_group_key,
    evolve=_year_group,
)
classes = Projection(
    name=CLASSES, handles=(ClassAdded, ClassDetailsChanged), key=_class_key, evolve=_class
)
pupils = Projection(
    name=PUPILS,
    handles=(
        PupilEnrolled,
        PupilDetailsChanged,
        PupilAvatarChosen,
        PupilMovedClass,
        PupilLeft,
        PupilErased,
    ),
    key=_pupil_key,
    evolve=_pupil,
    indexes=(("status", "left_at"),),  # leavers, oldest first: the retention's question
    version=2,  # when each pupil left
)
staff = Projection(
    name=STAFF,
    handles=(
        StaffMemberAdded,
        StaffDetailsChanged,
        StaffRoleChanged,
        StaffAssignedToClass,
        StaffUnassignedFromClass,
        StaffMemberLeft,
        StaffMemberErased,
    ),
    key=_staff_key,
    evolve=_staff,
)
school_ways = Projection(
    name=SCHOOL_WAYS,
    handles=(SchoolWayAdded, SchoolWayChanged, SchoolWayRetired),
    key=_way_key,
    evolve=_way,
    version=2,  # and each value's icon and colour
)
PROJECTIONS = (schools, year_groups, classes, pupils, staff, school_ways)
