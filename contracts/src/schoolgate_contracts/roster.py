"""Events owned by the roster service: a school's structure, its people and its values.

Every roster event of a school lives in that school's one roster stream, so a whole import
is one atomic append. The school is named in each event's metadata (``school_id``).
"""

from __future__ import annotations

from datetime import date, time
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from schoolgate_contracts.base import Event
from schoolgate_contracts.privacy import Id, NotPersonal, Personal, SchoolText
from schoolgate_contracts.registry import registry

SourceId = Annotated[str | None, NotPersonal("the school's own id for a class or year group")]
PupilText = Annotated[str, Personal("pupil_id")]
PupilSourceId = Annotated[str | None, Personal("pupil_id", removed=None)]
# The school's own id for a pupil (in England, often their unique pupil number).
StaffText = Annotated[str, Personal("staff_id")]
StaffSourceId = Annotated[str | None, Personal("staff_id", removed=None)]
Seed = Annotated[str, NotPersonal("a monster's seed")]


class StaffRole(StrEnum):
    teacher = "teacher"
    teaching_assistant = "teaching_assistant"
    leader = "leader"
    office = "office"
    school_admin = "school_admin"


class Term(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: SchoolText
    starts: date
    ends: date


class SchoolDetails(BaseModel):
    """How a school keeps time. Working hours are Monday to Friday 08:00-17:00 unless set."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: SchoolText = Field(min_length=1, max_length=200)
    timezone: SchoolText = "Europe/London"
    working_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    """ISO weekdays counted from Monday = 0."""
    day_starts: time = time(8, 0)
    day_ends: time = time(17, 0)
    week_start: int = Field(default=0, ge=0, le=6)
    terms: tuple[Term, ...] = ()
    holidays: tuple[Term, ...] = ()
    """Days off the school names itself, inside a term or not (a half term, a training day),
    each from ``starts`` to ``ends``; the days between terms are holidays without saying."""


class Retention(BaseModel):
    """How long the school keeps each kind of data. Defaults: a leaver's record until the end
    of the term after the one they left in; points for 12 months, rolling (as ClassDojo
    does); messages for 24 months."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    leavers_kept_days: int | None = Field(default=None, ge=0, le=3650)
    """None: until the end of the next term after they left (120 days without term dates)."""
    points_kept_months: int = Field(default=12, ge=1, le=120)
    messages_kept_months: int = Field(default=24, ge=1, le=120)


class _Roster(Event):
    service = "roster"


@registry.register
class SchoolRegistered(_Roster):
    event_type = "SchoolRegistered"
    schema_version = 2
    school_id: Id
    details: SchoolDetails


@registry.register
class SchoolDetailsChanged(_Roster):
    event_type = "SchoolDetailsChanged"
    schema_version = 2
    school_id: Id
    details: SchoolDetails


@registry.register
class YearGroupAdded(_Roster):
    event_type = "YearGroupAdded"
    schema_version = 2
    year_group_id: Id
    name: SchoolText
    source_id: SourceId = None


@registry.register
class YearGroupRenamed(_Roster):
    event_type = "YearGroupRenamed"
    year_group_id: Id
    name: SchoolText


@registry.register
class ClassAdded(_Roster):
    event_type = "ClassAdded"
    schema_version = 2
    class_id: Id
    name: SchoolText
    year_group_id: Id
    source_id: SourceId = None


@registry.register
class ClassDetailsChanged(_Roster):
    """A class was renamed, or now belongs to another year group (a new school year)."""

    event_type = "ClassDetailsChanged"
    class_id: Id
    name: SchoolText
    year_group_id: Id


@registry.register
class PupilEnrolled(_Roster):
    event_type = "PupilEnrolled"
    schema_version = 2
    pupil_id: Id
    first_name: PupilText
    surname: PupilText
    year_group_id: Id
    class_id: Id
    avatar: Seed | None = None
    source_id: PupilSourceId = None


@registry.register
class PupilDetailsChanged(_Roster):
    event_type = "PupilDetailsChanged"
    pupil_id: Id
    first_name: PupilText
    surname: PupilText


@registry.register
class PupilAvatarChosen(_Roster):
    """A pupil (or their teacher) chose the pupil's monster: ``avatar`` is its seed."""

    event_type = "PupilAvatarChosen"
    pupil_id: Id
    avatar: Seed = Field(min_length=1, max_length=40)


@registry.register
class PupilMovedClass(_Roster):
    event_type = "PupilMovedClass"
    pupil_id: Id
    from_class_id: Id
    to_class_id: Id
    year_group_id: Id


@registry.register
class PupilLeft(_Roster):
    """The pupil left the school. Their record stays, marked as left; nothing is deleted."""

    event_type = "PupilLeft"
    pupil_id: Id
    class_id: Id


@registry.register
class PupilErased(_Roster):
    """A leader erased a pupil who had left: their data key was destroyed, so every personal
    value about them now reads as removed, everywhere and in every rebuild. This record of
    it holds nothing about them but their id."""

    event_type = "PupilErased"
    pupil_id: Id
    class_id: Id
    erased_by: Id


@registry.register
class StaffMemberAdded(_Roster):
    event_type = "StaffMemberAdded"
    schema_version = 2
    staff_id: Id
    display_name: StaffText
    email: StaffText
    role: StaffRole
    source_id: StaffSourceId = None


@registry.register
class StaffDetailsChanged(_Roster):
    event_type = "StaffDetailsChanged"
    staff_id: Id
    display_name: StaffText
    email: StaffText


@registry.register
class StaffRoleChanged(_Roster):
    event_type = "StaffRoleChanged"
    staff_id: Id
    role: StaffRole


@registry.register
class StaffAssignedToClass(_Roster):
    event_type = "StaffAssignedToClass"
    staff_id: Id
    class_id: Id


@registry.register
class StaffUnassignedFromClass(_Roster):
    event_type = "StaffUnassignedFromClass"
    staff_id: Id
    class_id: Id


@registry.register
class StaffMemberLeft(_Roster):
    event_type = "StaffMemberLeft"
    staff_id: Id


@registry.register
class StaffMemberErased(_Roster):
    """A leader erased a member of staff who had left: their key was destroyed, so their
    name, email and what they wrote under their own name (comments) read as removed. What
    they wrote for the school (stories, notes about pupils) is the school's and stays."""

    event_type = "StaffMemberErased"
    staff_id: Id
    erased_by: Id


Look = Annotated[str, NotPersonal("the name of an icon or colour the school chose")]


@registry.register
class SchoolWayAdded(_Roster):
    """One of the school's values that points are awarded for, with the icon and colour
    it is shown with ("" when none was chosen)."""

    event_type = "SchoolWayAdded"
    schema_version = 2
    school_way_id: Id
    name: SchoolText
    description: SchoolText = ""
    icon: Look = ""
    colour: Look = ""


@registry.register
class SchoolWayChanged(_Roster):
    """A leader renamed one of the school's values, or changed its words, icon or colour.
    Points given for it keep it: they name its id."""

    event_type = "SchoolWayChanged"
    school_way_id: Id
    name: SchoolText
    description: SchoolText = ""
    icon: Look = ""
    colour: Look = ""


@registry.register
class SchoolWayRetired(_Roster):
    event_type = "SchoolWayRetired"
    school_way_id: Id


@registry.register
class RetentionSet(_Roster):
    """A leader set how long the school keeps each kind of data."""

    event_type = "RetentionSet"
    retention: Retention
    set_by: Id


@registry.register
class OldPointsErased(_Roster):
    """The school's retention erased the points of every week that began before ``before``.

    Their week keys were destroyed first, so those awards no longer say which child they
    went to; read models that kept them drop every document of those weeks on this event.
    """

    event_type = "OldPointsErased"
    before: date
    erased_weeks: int = Field(ge=0)


@registry.register
class RosterImported(_Roster):
    """A summary closing the events one import appended."""

    event_type = "RosterImported"
    schema_version = 2
    import_id: Id
    source: Annotated[str, NotPersonal("the kind of file")]
    added: int
    moved: int
    left: int
    unchanged: int
    school_source_id: SourceId = None
    """The school's own id in the file (its OneRoster org), once the file was found to be
    this school's: later files must carry it, so another school's file is refused."""


@registry.upcaster("YearGroupAdded", from_version=1)
def _yeargroupadded_v2(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "source_id": data["year_group_id"]}


@registry.upcaster("ClassAdded", from_version=1)
def _classadded_v2(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "source_id": data["class_id"]}


@registry.upcaster("PupilEnrolled", from_version=1)
def _pupilenrolled_v2(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "source_id": data["pupil_id"]}


@registry.upcaster("StaffMemberAdded", from_version=1)
def _staffmemberadded_v2(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "source_id": data["staff_id"]}


def _no_holidays(data: dict[str, Any]) -> dict[str, Any]:
    # version 1 knew terms only: no holiday had been named
    return {**data, "details": {**data["details"], "holidays": []}}


registry.upcaster("SchoolRegistered", from_version=1)(_no_holidays)
registry.upcaster("SchoolDetailsChanged", from_version=1)(_no_holidays)


@registry.upcaster("SchoolWayAdded", from_version=1)
def _schoolwayadded_v2(data: dict[str, Any]) -> dict[str, Any]:
    # version 1 had no look: shown plain until a leader chooses one
    return {**data, "icon": "", "colour": ""}


@registry.upcaster("RosterImported", from_version=1)
def _rosterimported_v2(data: dict[str, Any]) -> dict[str, Any]:
    # version 1 never checked whose file it was: nothing is known of the school's own id
    return {**data, "school_source_id": None}
