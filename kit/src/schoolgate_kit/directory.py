"""What a service keeps of other services' facts, folded one way: roster's pupils, staff and
schools, consent's guardians of each pupil and its answers to "may pupil P appear in media?"
and "has parent P accepted the school's current code of conduct?".

Several services need to know who is in which class, a school's clock and values, and who may
be shown in photos, and may not ask roster or consent on the request path. Each keeps its
own read models, under its own names, built by these projections.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.consent import (
    CodeOfConductAccepted,
    CodeOfConductPublished,
    GuardianLinked,
    GuardianRemoved,
    MediaConsentExceptionRecorded,
    MediaConsentGranted,
    MediaConsentWithdrawn,
    PupilCareStatusRecorded,
)
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

from schoolgate_kit.identity import Identity, IdentityGate, Role
from schoolgate_kit.problems import Forbidden
from schoolgate_kit.projections import Projection
from schoolgate_kit.readmodels import Doc, ReadModelStore


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
        case PupilErased() if doc:
            return {**doc, "first_name": REMOVED, "surname": REMOVED, "left": True}
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
        case SchoolWayAdded() | SchoolWayChanged():
            looks = {**doc.get("school_way_looks", {})}
            if event.icon or event.colour:
                looks[event.school_way_id] = {"icon": event.icon, "colour": event.colour}
            else:
                looks.pop(event.school_way_id, None)
            ways = {**doc["school_ways"], event.school_way_id: event.name}
            return {**doc, "school_ways": ways, "school_way_looks": looks}
        case SchoolWayRetired():
            ways = {k: v for k, v in doc["school_ways"].items() if k != event.school_way_id}
            looks = doc.get("school_way_looks", {})
            looks = {k: v for k, v in looks.items() if k != event.school_way_id}
            return {**doc, "school_ways": ways, "school_way_looks": looks}
    return doc


def pupils_projection(name: str) -> Projection:
    """Pupils by id: school, names, class and year group, monster, and whether they left."""
    return Projection(
        name=name,
        handles=(
            PupilEnrolled,
            PupilDetailsChanged,
            PupilAvatarChosen,
            PupilMovedClass,
            PupilLeft,
            PupilErased,
        ),
        key=lambda recorded: str(getattr(recorded.event, "pupil_id")),  # noqa: B009
        evolve=_pupil,
    )


def schools_projection(name: str) -> Projection:
    """Schools by id: name, timezone, first day of the week, year groups, classes (and the
    year group of each) and current values (and the icon and colour of those that have one)."""
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
            SchoolWayChanged,
            SchoolWayRetired,
        ),
        key=lambda recorded: recorded.metadata.school_id,
        evolve=_school,
    )


# -- staff ---------------------------------------------------------------------------------


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
    return event.staff_id


def _staff(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    match event:
        case StaffMemberAdded():
            return {
                "staff_id": event.staff_id,
                "school_id": recorded.metadata.school_id,
                "name": event.display_name,
                "role": event.role.value,
                "class_ids": [],
                "left": False,
            }
    if doc is None:
        return None
    match event:
        case StaffDetailsChanged():
            return {**doc, "name": event.display_name}
        case StaffRoleChanged():
            return {**doc, "role": event.role.value}
        case StaffAssignedToClass():
            classes = sorted({*doc["class_ids"], event.class_id})
            return {**doc, "class_ids": classes}
        case StaffUnassignedFromClass():
            return {**doc, "class_ids": [c for c in doc["class_ids"] if c != event.class_id]}
        case StaffMemberLeft():
            return {**doc, "left": True}
        case StaffMemberErased():
            return {**doc, "name": REMOVED, "left": True}
    return doc


def staff_projection(name: str) -> Projection:
    """Staff by id: school, display name, role, classes, and whether they left."""
    return Projection(
        name=name,
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
        indexes=(("school_id", "left"),),
    )


# -- families: each pupil's guardians --------------------------------------------------------


def _family(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    assert isinstance(event, GuardianLinked | GuardianRemoved)
    doc = doc or {
        "pupil_id": event.pupil_id,
        "school_id": recorded.metadata.school_id,
        "parent_ids": [],
    }
    parents = [p for p in doc["parent_ids"] if p != event.parent_id]
    if isinstance(event, GuardianLinked):
        parents.append(event.parent_id)
    return {**doc, "parent_ids": parents}


def families_projection(name: str) -> Projection:
    """Pupils by id: the parents linked to them as guardians."""
    return Projection(
        name=name,
        handles=(GuardianLinked, GuardianRemoved),
        key=lambda recorded: str(getattr(recorded.event, "pupil_id")),  # noqa: B009
        evolve=_family,
    )


# -- may pupil P appear in media? -----------------------------------------------------------

MediaConsentEvent = (
    MediaConsentGranted
    | MediaConsentWithdrawn
    | PupilCareStatusRecorded
    | MediaConsentExceptionRecorded
)


def may_appear(granted: bool, in_care: bool, exception: bool) -> bool:
    """The one rule every service relies on: consent given, and no care placement without a
    leader's exception."""
    return granted and (not in_care or exception)


def no_media_consent(pupil_id: str, school_id: str) -> Doc:
    """A pupil nobody has recorded anything for: not shown."""
    return {
        "pupil_id": pupil_id,
        "school_id": school_id,
        "granted": False,
        "in_care": False,
        "exception": False,
        "may_appear": False,
        "changed_by": None,
        "changed_at": None,
    }


def _media_consent(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    assert isinstance(event, MediaConsentEvent)
    doc = dict(doc or no_media_consent(event.pupil_id, recorded.metadata.school_id))
    when = recorded.metadata.occurred_at.isoformat()
    match event:
        case MediaConsentGranted():
            doc.update(granted=True, changed_by=event.granted_by, changed_at=when)
        case MediaConsentWithdrawn():
            doc.update(granted=False, changed_by=event.withdrawn_by, changed_at=when)
        case PupilCareStatusRecorded():
            doc.update(in_care=event.in_care, exception=doc["exception"] and not event.in_care)
        case MediaConsentExceptionRecorded():
            doc.update(exception=True)
    doc["may_appear"] = may_appear(doc["granted"], doc["in_care"], doc["exception"])
    return doc


def media_consent_projection(name: str) -> Projection:
    """Pupils by id: whether they may appear in photos and videos, and who last changed it."""
    return Projection(
        name=name,
        handles=(
            MediaConsentGranted,
            MediaConsentWithdrawn,
            PupilCareStatusRecorded,
            MediaConsentExceptionRecorded,
        ),
        key=lambda recorded: str(getattr(recorded.event, "pupil_id")),  # noqa: B009
        evolve=_media_consent,
    )


# -- has parent P accepted school S's current code of conduct? ------------------------------


class CodeOfConductNotAccepted(Forbidden):
    slug = "code-of-conduct-not-accepted"
    title = "Accept the school's code of conduct first"


def _conduct_key(recorded: RecordedEvent) -> str:
    event = recorded.event
    if isinstance(event, CodeOfConductAccepted):
        return conduct_acceptance_key(event.parent_id, event.school_id)
    return conduct_school_key(recorded.metadata.school_id)


def conduct_school_key(school_id: str) -> str:
    return f"school:{school_id}"


def conduct_acceptance_key(parent_id: str, school_id: str) -> str:
    return f"parent:{parent_id}:{school_id}"


def _conduct(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    match event:
        case CodeOfConductPublished():
            return {"school_id": recorded.metadata.school_id, "version": event.version}
        case CodeOfConductAccepted():
            # versions only grow, but a replay of two acceptances must still keep the newest
            newest = max(event.version, (doc or {}).get("version", 0))
            return {"school_id": event.school_id, "parent_id": event.parent_id, "version": newest}
    return doc


def conduct_projection(name: str) -> Projection:
    """Per school, the current code-of-conduct version; per parent and school, the newest
    version that parent accepted. Two small documents, so an acceptance never rewrites a
    school-wide one."""
    return Projection(
        name=name,
        handles=(CodeOfConductPublished, CodeOfConductAccepted),
        key=_conduct_key,
        evolve=_conduct,
    )


async def conduct_accepted(
    readmodels: ReadModelStore, name: str, parent_id: str, school_id: str
) -> bool:
    """True where the school has no code yet, or the parent accepted its current version."""
    school_key = conduct_school_key(school_id)
    acceptance_key = conduct_acceptance_key(parent_id, school_id)
    # one read for both: this runs before every request a parent makes
    found = await readmodels.get_many(name, (school_key, acceptance_key))
    school, accepted = found.get(school_key), found.get(acceptance_key)
    if school is None:
        return True
    return accepted is not None and int(accepted["version"]) >= int(school["version"])


async def require_conduct_accepted(
    readmodels: ReadModelStore, name: str, identity: Identity, school_id: str
) -> None:
    """Refuse a parent who has not accepted the school's current code of conduct (staff and
    pupils pass). The school is the one the request is about."""
    if identity.role is not Role.parent:
        return
    if not await conduct_accepted(readmodels, name, identity.subject, school_id):
        raise CodeOfConductNotAccepted(
            "Please read and accept the school's code of conduct first.", school_id=school_id
        )


def conduct_gate(name: str, readmodels_of: Callable[[Request], ReadModelStore]) -> IdentityGate:
    """A service's identity gate refusing every request of a parent who has not accepted the
    current code of conduct of the school the request is about (the path's, else theirs)."""

    async def gate(identity: Identity, request: Request) -> None:
        school_id = request.path_params.get("school_id", identity.school_id)
        await require_conduct_accepted(readmodels_of(request), name, identity, school_id)

    return gate
