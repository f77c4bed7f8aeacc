"""The gateway's read models: who each signed-in person is in their school right now.

Scopes come from the services' facts, not from the accounts table: a teacher's classes from
roster events, a parent's children and suspension from consent events. The gateway puts
them into the short-lived identity it signs for each service call.

The parent feed and the media consent it applies are folded in ``feed.py``.
"""

from __future__ import annotations

from dataclasses import replace

from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.consent import (
    GuardianLinked,
    GuardianRemoved,
    GuardianRequestApproved,
    GuardianRequested,
    ParentAccountClosed,
    ParentSuspended,
    ParentSuspensionLifted,
)
from schoolgate_contracts.privacy import REMOVED
from schoolgate_contracts.roster import (
    StaffAssignedToClass,
    StaffDetailsChanged,
    StaffMemberAdded,
    StaffMemberErased,
    StaffMemberLeft,
    StaffRoleChanged,
    StaffUnassignedFromClass,
)
from schoolgate_kit.directory import conduct_projection, pupils_projection, schools_projection
from schoolgate_kit.projections import Projection
from schoolgate_kit.readmodels import Doc

from schoolgate_gateway.feed import FEED_PROJECTIONS
from schoolgate_gateway.people import CONDUCT as CONDUCT
from schoolgate_gateway.people import PARENTS as PARENTS
from schoolgate_gateway.people import PUPILS as PUPILS
from schoolgate_gateway.people import SCHOOLS as SCHOOLS
from schoolgate_gateway.people import STAFF as STAFF


def _staff(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    match event:
        case StaffMemberAdded():
            return {
                "staff_id": event.staff_id,
                "school_id": recorded.metadata.school_id,
                "display_name": event.display_name,
                "email": event.email.lower(),
                "role": event.role.value,
                "class_ids": [],
                "left": False,
            }
        case StaffDetailsChanged() if doc:
            return {**doc, "display_name": event.display_name, "email": event.email.lower()}
        case StaffRoleChanged() if doc:
            return {**doc, "role": event.role.value}
        case StaffAssignedToClass() if doc:
            return {**doc, "class_ids": sorted({*doc["class_ids"], event.class_id})}
        case StaffUnassignedFromClass() if doc:
            return {**doc, "class_ids": [c for c in doc["class_ids"] if c != event.class_id]}
        case StaffMemberLeft() if doc:
            return {**doc, "left": True, "class_ids": []}
        case StaffMemberErased() if doc:
            return {**doc, "display_name": REMOVED, "email": REMOVED, "left": True, "class_ids": []}
    return doc


def _staff_key(recorded: RecordedEvent) -> str:
    return str(getattr(recorded.event, "staff_id"))  # noqa: B009 - every handled event has it


def _parent(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    def current(parent_id: str) -> Doc:
        return doc or {"parent_id": parent_id, "children": {}, "requested": {}, "suspended": False}

    match recorded.event:
        case (
            GuardianLinked(parent_id=parent, pupil_id=pupil)
            | GuardianRequestApproved(parent_id=parent, pupil_id=pupil)
        ):
            now = current(parent)
            return {**now, "children": {**now["children"], pupil: recorded.metadata.school_id}}
        case GuardianRequested(parent_id=parent, pupil_id=pupil):
            now = current(parent)
            asked = {**now.get("requested", {}), pupil: recorded.metadata.school_id}
            return {**now, "requested": asked}
        case GuardianRemoved(parent_id=parent, pupil_id=pupil):
            now = current(parent)
            children = {p: s for p, s in now["children"].items() if p != pupil}
            asked = {p: s for p, s in now.get("requested", {}).items() if p != pupil}
            return {**now, "children": children, "requested": asked}
        case ParentAccountClosed():
            return None
        case ParentSuspended(parent_id=parent):
            return {**current(parent), "suspended": True}
        case ParentSuspensionLifted(parent_id=parent):
            return {**current(parent), "suspended": False}
    return doc


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
    indexes=(("email",),),  # a parent account whose email is a colleague's (scope.py)
)
parents = Projection(
    name=PARENTS,
    handles=(
        GuardianLinked,
        GuardianRequested,
        GuardianRequestApproved,
        ParentSuspended,
        ParentSuspensionLifted,
        GuardianRemoved,
        ParentAccountClosed,
    ),
    key=lambda recorded: str(getattr(recorded.event, "parent_id")),  # noqa: B009
    evolve=_parent,
)
# classmates by class, for display names (the family pages and the feed ask on every view)
pupils = replace(pupils_projection(PUPILS), indexes=(("class_id", "left"),))
schools = schools_projection(SCHOOLS)
conduct = conduct_projection(CONDUCT)
"""Which code of conduct each parent accepted: the feed is the gateway's own read, so it keeps
the rule the services keep (a parent who has not accepted the current code sees nothing)."""
PROJECTIONS = (staff, parents, pupils, schools, conduct, *FEED_PROJECTIONS)
