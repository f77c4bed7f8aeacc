"""A school's roster: its structure, its people and its values; what may happen to it, and
what it becomes.

Everything a school's roster holds lives in one stream, ``roster-{school_id}``, so a whole
import is decided against one state and appended atomically at one expected version.

Every year group, class, pupil and member of staff has an id Schoolgate made (``new_key``),
unique across the deployment; the id the school's own records give it is its ``source_id``,
which only ever finds things within this school's roster. Commands that add something come
with a freshly made id and use it only when nothing of the school's already answers to the
same source id (or, for named things, the same name): so a retry changes nothing.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from schoolgate_contracts import Event
from schoolgate_contracts.privacy import REMOVED
from schoolgate_contracts.roster import (
    ClassAdded,
    ClassDetailsChanged,
    OldPointsErased,
    PupilAvatarChosen,
    PupilDetailsChanged,
    PupilEnrolled,
    PupilErased,
    PupilLeft,
    PupilMovedClass,
    Retention,
    RetentionSet,
    RosterImported,
    SchoolDetails,
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
    StaffRole,
    StaffRoleChanged,
    StaffUnassignedFromClass,
    Term,
    YearGroupAdded,
    YearGroupRenamed,
)
from schoolgate_kit.problems import Conflict, NotFound, Unprocessable

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_ID = re.compile(ID_PATTERN)


def roster_stream(school_id: str) -> str:
    return f"roster-{school_id}"


def is_id(text: str) -> bool:
    return _ID.fullmatch(text) is not None


# -- state -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class YearGroup:
    year_group_id: str
    name: str
    source_id: str | None = None


@dataclass(frozen=True)
class SchoolClass:
    class_id: str
    name: str
    year_group_id: str
    source_id: str | None = None


@dataclass(frozen=True)
class Pupil:
    pupil_id: str
    first_name: str
    surname: str
    year_group_id: str
    class_id: str
    avatar: str | None = None
    on_roll: bool = True
    source_id: str | None = None
    erased: bool = False


@dataclass(frozen=True)
class StaffMember:
    staff_id: str
    display_name: str
    email: str
    role: StaffRole
    class_ids: frozenset[str] = frozenset()
    active: bool = True
    source_id: str | None = None
    erased: bool = False


@dataclass(frozen=True)
class SchoolWay:
    school_way_id: str
    name: str
    description: str = ""
    retired: bool = False
    icon: str = ""
    colour: str = ""


@dataclass(frozen=True)
class Tally:
    """What one import did to the pupils, as its closing ``RosterImported`` records it."""

    added: int = 0
    moved: int = 0
    left: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class Roster:
    details: SchoolDetails | None = None
    year_groups: Mapping[str, YearGroup] = field(default_factory=dict)
    classes: Mapping[str, SchoolClass] = field(default_factory=dict)
    pupils: Mapping[str, Pupil] = field(default_factory=dict)
    staff: Mapping[str, StaffMember] = field(default_factory=dict)
    school_ways: Mapping[str, SchoolWay] = field(default_factory=dict)
    imports: Mapping[str, Tally] = field(default_factory=dict)
    source_id: str | None = None
    """The school's own id in its system's files (its OneRoster org), recorded by the first
    import of a file found to be this school's."""
    retention: Retention = field(default_factory=Retention)


def initial_state() -> Roster:
    return Roster()


def _put(entries: Mapping[str, Any], key: str, value: Any) -> dict[str, Any]:
    return {**entries, key: value}


def evolve(state: Roster, event: Event) -> Roster:
    match event:
        case SchoolRegistered() | SchoolDetailsChanged():
            return replace(state, details=event.details)
        case RetentionSet():
            return replace(state, retention=event.retention)
        case YearGroupAdded():
            group = YearGroup(event.year_group_id, event.name, event.source_id)
            return replace(state, year_groups=_put(state.year_groups, event.year_group_id, group))
        case YearGroupRenamed():
            group = replace(state.year_groups[event.year_group_id], name=event.name)
            return replace(state, year_groups=_put(state.year_groups, event.year_group_id, group))
        case ClassAdded():
            klass = SchoolClass(event.class_id, event.name, event.year_group_id, event.source_id)
            return replace(state, classes=_put(state.classes, event.class_id, klass))
        case ClassDetailsChanged():
            klass = replace(
                state.classes[event.class_id], name=event.name, year_group_id=event.year_group_id
            )
            return replace(state, classes=_put(state.classes, event.class_id, klass))
        case PupilEnrolled():
            pupil = Pupil(
                event.pupil_id,
                event.first_name,
                event.surname,
                event.year_group_id,
                event.class_id,
                event.avatar,
                source_id=event.source_id,
            )
            return replace(state, pupils=_put(state.pupils, event.pupil_id, pupil))
        case PupilDetailsChanged():
            pupil = replace(
                state.pupils[event.pupil_id], first_name=event.first_name, surname=event.surname
            )
            return replace(state, pupils=_put(state.pupils, event.pupil_id, pupil))
        case PupilAvatarChosen():
            pupil = replace(state.pupils[event.pupil_id], avatar=event.avatar)
            return replace(state, pupils=_put(state.pupils, event.pupil_id, pupil))
        case PupilMovedClass():
            pupil = replace(
                state.pupils[event.pupil_id],
                class_id=event.to_class_id,
                year_group_id=event.year_group_id,
            )
            return replace(state, pupils=_put(state.pupils, event.pupil_id, pupil))
        case PupilLeft():
            pupil = replace(state.pupils[event.pupil_id], on_roll=False)
            return replace(state, pupils=_put(state.pupils, event.pupil_id, pupil))
        case PupilErased():
            pupil = replace(
                state.pupils[event.pupil_id],
                first_name=REMOVED,
                surname=REMOVED,
                source_id=None,
                on_roll=False,
                erased=True,
            )
            return replace(state, pupils=_put(state.pupils, event.pupil_id, pupil))
        case StaffMemberAdded():
            member = StaffMember(
                event.staff_id,
                event.display_name,
                event.email,
                event.role,
                source_id=event.source_id,
            )
            return replace(state, staff=_put(state.staff, event.staff_id, member))
        case StaffDetailsChanged():
            member = replace(
                state.staff[event.staff_id], display_name=event.display_name, email=event.email
            )
            return replace(state, staff=_put(state.staff, event.staff_id, member))
        case StaffRoleChanged():
            member = replace(state.staff[event.staff_id], role=event.role)
            return replace(state, staff=_put(state.staff, event.staff_id, member))
        case StaffAssignedToClass():
            current = state.staff[event.staff_id]
            member = replace(current, class_ids=current.class_ids | {event.class_id})
            return replace(state, staff=_put(state.staff, event.staff_id, member))
        case StaffUnassignedFromClass():
            current = state.staff[event.staff_id]
            member = replace(current, class_ids=current.class_ids - {event.class_id})
            return replace(state, staff=_put(state.staff, event.staff_id, member))
        case StaffMemberLeft():
            member = replace(state.staff[event.staff_id], active=False, class_ids=frozenset())
            return replace(state, staff=_put(state.staff, event.staff_id, member))
        case StaffMemberErased():
            member = replace(
                state.staff[event.staff_id],
                display_name=REMOVED,
                email=REMOVED,
                source_id=None,
                active=False,
                class_ids=frozenset(),
                erased=True,
            )
            return replace(state, staff=_put(state.staff, event.staff_id, member))
        case SchoolWayAdded():
            way = SchoolWay(
                event.school_way_id,
                event.name,
                event.description,
                icon=event.icon,
                colour=event.colour,
            )
            return replace(state, school_ways=_put(state.school_ways, event.school_way_id, way))
        case SchoolWayChanged():
            way = replace(
                state.school_ways[event.school_way_id],
                name=event.name,
                description=event.description,
                icon=event.icon,
                colour=event.colour,
            )
            return replace(state, school_ways=_put(state.school_ways, event.school_way_id, way))
        case SchoolWayRetired():
            way = replace(state.school_ways[event.school_way_id], retired=True)
            return replace(state, school_ways=_put(state.school_ways, event.school_way_id, way))
        case RosterImported():
            tally = Tally(event.added, event.moved, event.left, event.unchanged)
            return replace(
                state,
                imports=_put(state.imports, event.import_id, tally),
                source_id=event.school_source_id or state.source_id,
            )
        case _:
            return state


# -- retention ---------------------------------------------------------------------------------

LEAVERS_KEPT_WITHOUT_TERMS = timedelta(days=120)
"""About a term: how long a leaver is kept by default at a school with no term dates."""


def leaver_due(left_at: datetime, retention: Retention, terms: Sequence[Term]) -> datetime:
    """When a leaver's record is erased: after the days the school chose, or by default at
    the end of the first term that starts after the day they left."""
    if retention.leavers_kept_days is not None:
        return left_at + timedelta(days=retention.leavers_kept_days)
    left_on = left_at.date()
    for term in sorted(terms, key=lambda t: t.starts):
        if term.starts > left_on:
            return datetime.combine(term.ends + timedelta(days=1), time(), tzinfo=UTC)
    return left_at + LEAVERS_KEPT_WITHOUT_TERMS


def points_erased_before(today: date, retention: Retention) -> date:
    """Weeks of points that began before this day are past the school's retention: every
    day of them is more than ``points_kept_months`` before ``today``."""
    months = today.year * 12 + today.month - 1 - retention.points_kept_months
    year, month = divmod(months, 12)
    day = min(today.day, calendar.monthrange(year, month + 1)[1])
    return date(year, month + 1, day) - timedelta(days=6)


# -- errors ----------------------------------------------------------------------------------


class SchoolNotFound(NotFound):
    slug = "school-not-found"
    title = "That school is not registered"


class EntryNotFound(NotFound):
    slug = "roster-entry-not-found"
    title = "No such entry in this school's roster"


class IdTaken(Conflict):
    slug = "id-taken"
    title = "That id is already used for something else"


class StaffStillHere(Conflict):
    slug = "staff-still-here"
    title = "That member of staff has not left"


class LeavingYourself(Conflict):
    slug = "leaving-yourself"
    title = "You cannot mark yourself as left"


class PupilOnRoll(Conflict):
    slug = "pupil-on-roll"
    title = "That pupil is still on the roll"


class PupilHasLeft(Conflict):
    slug = "pupil-left"
    title = "That pupil has left the school"


class NameTaken(Conflict):
    slug = "name-taken"
    title = "Something else of the school already has that name"


class StaffHasLeft(Conflict):
    slug = "staff-left"
    title = "That member of staff has left the school"


class ChangingYourOwnRole(Conflict):
    slug = "own-role"
    title = "You cannot change your own role"


class LastLeader(Conflict):
    slug = "last-leader"
    title = "The school would have no leader"


class SchoolWayRetiredAlready(Conflict):
    slug = "school-way-retired"
    title = "That value is retired"


class UnknownReference(Unprocessable):
    slug = "unknown-reference"
    title = "The request names something this school does not have"


# -- commands --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterSchool:
    """Register the school, or change its details: PUT semantics."""

    school_id: str
    details: SchoolDetails


@dataclass(frozen=True)
class SetRetention:
    retention: Retention
    set_by: str


@dataclass(frozen=True)
class RecordOldPointsErased:
    """The retention erased the keys of ``erased_weeks`` weeks of points before ``before``."""

    before: date
    erased_weeks: int


@dataclass(frozen=True)
class AddYearGroup:
    year_group_id: str
    """A fresh id, used if the school has no year group of this source id or name yet."""
    name: str
    source_id: str | None = None


@dataclass(frozen=True)
class AddClass:
    class_id: str
    """A fresh id, used if the school has no class of this source id, or of this name in
    this year group, yet."""
    name: str
    year_group_id: str
    source_id: str | None = None


@dataclass(frozen=True)
class EnrolPupil:
    pupil_id: str
    """A fresh id, used unless a pupil of the school already has this ``source_id``."""
    first_name: str
    surname: str
    class_id: str
    year_group_id: str | None = None
    """Defaults to the class's year group; mixed-age classes may say otherwise."""
    avatar: str | None = None
    source_id: str | None = None


@dataclass(frozen=True)
class MovePupil:
    pupil_id: str
    class_id: str
    year_group_id: str | None = None


@dataclass(frozen=True)
class MarkPupilLeft:
    pupil_id: str


@dataclass(frozen=True)
class ErasePupil:
    """Erase a pupil who has left: their key is destroyed first (``handlers.erase_pupil``),
    then this records that it was."""

    pupil_id: str
    erased_by: str


@dataclass(frozen=True)
class MarkStaffLeft:
    staff_id: str
    by: str
    """Who asks: nobody marks themself as left (a school is never locked out that way)."""


@dataclass(frozen=True)
class EraseStaffMember:
    staff_id: str
    erased_by: str


@dataclass(frozen=True)
class ChooseAvatar:
    """The pupil's monster: ``avatar`` is the seed the pictures are drawn from."""

    pupil_id: str
    avatar: str


@dataclass(frozen=True)
class AddStaffMember:
    staff_id: str
    """A fresh id, used unless a member of staff already has this source id or email."""
    display_name: str
    email: str
    role: StaffRole
    class_ids: frozenset[str] = frozenset()
    source_id: str | None = None


@dataclass(frozen=True)
class ChangeStaffMember:
    """Give a member of staff another role, or other classes."""

    staff_id: str
    role: StaffRole
    class_ids: frozenset[str]
    by: str
    """Who asks: nobody changes their own role (a lone leader cannot demote themself and
    leave the school with nobody to run it)."""


@dataclass(frozen=True)
class RenameYearGroup:
    year_group_id: str
    name: str


@dataclass(frozen=True)
class ChangeClass:
    """Rename a class, or put it in another year group."""

    class_id: str
    name: str
    year_group_id: str


@dataclass(frozen=True)
class AddSchoolWay:
    school_way_id: str
    """A fresh id, used unless the school already has a value of this name."""
    name: str
    description: str = ""
    icon: str = ""
    colour: str = ""


@dataclass(frozen=True)
class ChangeSchoolWay:
    school_way_id: str
    name: str
    description: str = ""
    icon: str = ""
    colour: str = ""


@dataclass(frozen=True)
class RetireSchoolWay:
    school_way_id: str


Command = (
    RegisterSchool
    | AddYearGroup
    | AddClass
    | EnrolPupil
    | MovePupil
    | MarkPupilLeft
    | ErasePupil
    | MarkStaffLeft
    | SetRetention
    | RecordOldPointsErased
    | EraseStaffMember
    | ChooseAvatar
    | AddStaffMember
    | AddSchoolWay
    | RetireSchoolWay
    | ChangeStaffMember
    | RenameYearGroup
    | ChangeClass
    | ChangeSchoolWay
)


# -- finding what a command names ------------------------------------------------------------


def fold_name(text: str) -> str:
    return " ".join(text.split()).casefold()


def same_name(a: str, b: str) -> bool:
    return fold_name(a) == fold_name(b)


def existing_year_group(state: Roster, command: AddYearGroup) -> YearGroup | None:
    """The year group a command to add one names: its source id's, else its name's."""
    if command.source_id is not None:
        for group in state.year_groups.values():
            if group.source_id == command.source_id:
                return group
    return next((g for g in state.year_groups.values() if same_name(g.name, command.name)), None)


def existing_class(state: Roster, command: AddClass) -> SchoolClass | None:
    if command.source_id is not None:
        for klass in state.classes.values():
            if klass.source_id == command.source_id:
                return klass
    return next(
        (
            c
            for c in state.classes.values()
            if same_name(c.name, command.name) and c.year_group_id == command.year_group_id
        ),
        None,
    )


def existing_pupil(state: Roster, command: EnrolPupil) -> Pupil | None:
    if command.source_id is None:
        return state.pupils.get(command.pupil_id)
    return next((p for p in state.pupils.values() if p.source_id == command.source_id), None)


def existing_staff(state: Roster, command: AddStaffMember) -> StaffMember | None:
    if command.source_id is not None:
        for member in state.staff.values():
            if member.source_id == command.source_id:
                return member
    email = command.email.strip().casefold()
    if email:
        for member in state.staff.values():
            if member.active and member.email.strip().casefold() == email:
                return member
    return state.staff.get(command.staff_id)


def existing_way(state: Roster, command: AddSchoolWay) -> SchoolWay | None:
    """A current value of the same name (a retired one's name may be used again)."""
    return next(
        (
            w
            for w in state.school_ways.values()
            if not w.retired and same_name(w.name, command.name)
        ),
        None,
    )


def resulting_id(state: Roster, command: Command) -> str:
    """The id of what a command added or found, read off the roster after it."""
    match command:
        case AddYearGroup():
            return (existing_year_group(state, command) or _missing()).year_group_id
        case AddClass():
            return (existing_class(state, command) or _missing()).class_id
        case EnrolPupil():
            return (existing_pupil(state, command) or _missing()).pupil_id
        case AddStaffMember():
            return (existing_staff(state, command) or _missing()).staff_id
        case AddSchoolWay():
            return (existing_way(state, command) or _missing()).school_way_id
    raise AssertionError(command)


def _missing() -> Any:
    raise AssertionError("the command's decision added nothing and found nothing")


# -- decisions -------------------------------------------------------------------------------


def _registered(state: Roster) -> SchoolDetails:
    if state.details is None:
        raise SchoolNotFound("register the school first (PUT /schools/{school_id})")
    return state.details


def _class(state: Roster, class_id: str) -> SchoolClass:
    klass = state.classes.get(class_id)
    if klass is None:
        raise UnknownReference(f"this school has no class {class_id}")
    return klass


def _year_group_for(state: Roster, klass: SchoolClass, year_group_id: str | None) -> str:
    if year_group_id is None:
        return klass.year_group_id
    if year_group_id not in state.year_groups:
        raise UnknownReference(f"this school has no year group {year_group_id}")
    return year_group_id


def _on_roll(state: Roster, pupil_id: str) -> Pupil:
    pupil = state.pupils.get(pupil_id)
    if pupil is None:
        raise EntryNotFound(f"this school has no pupil {pupil_id}")
    if not pupil.on_roll:
        raise PupilHasLeft(f"pupil {pupil_id} has left the school")
    return pupil


def decide(state: Roster, command: Command) -> list[Event]:
    """What a single roster command changes. Sending the same command again changes nothing."""
    match command:
        case RegisterSchool():
            if state.details is None:
                return [SchoolRegistered(school_id=command.school_id, details=command.details)]
            if state.details == command.details:
                return []
            return [SchoolDetailsChanged(school_id=command.school_id, details=command.details)]
        case SetRetention():
            _registered(state)
            if state.retention == command.retention:
                return []
            return [RetentionSet(retention=command.retention, set_by=command.set_by)]
        case RecordOldPointsErased():
            if not command.erased_weeks:
                return []
            return [OldPointsErased(before=command.before, erased_weeks=command.erased_weeks)]
        case AddYearGroup():
            _registered(state)
            group = existing_year_group(state, command)
            if group is not None:
                if same_name(group.name, command.name) and command.source_id in (
                    None,
                    group.source_id,
                ):
                    return []
                raise IdTaken(f"this school already has year group {group.name!r}")
            return [
                YearGroupAdded(
                    year_group_id=command.year_group_id,
                    name=command.name,
                    source_id=command.source_id,
                )
            ]
        case AddClass():
            _registered(state)
            if command.year_group_id not in state.year_groups:
                raise UnknownReference(f"this school has no year group {command.year_group_id}")
            existing = existing_class(state, command)
            if existing is not None:
                same = (
                    same_name(existing.name, command.name)
                    and existing.year_group_id == command.year_group_id
                )
                if same and command.source_id in (None, existing.source_id):
                    return []
                raise IdTaken(f"this school already has class {existing.name!r}")
            return [
                ClassAdded(
                    class_id=command.class_id,
                    name=command.name,
                    year_group_id=command.year_group_id,
                    source_id=command.source_id,
                )
            ]
        case EnrolPupil():
            return _enrol(state, command)
        case MovePupil():
            _registered(state)
            pupil = _on_roll(state, command.pupil_id)
            klass = _class(state, command.class_id)
            year_group_id = _year_group_for(state, klass, command.year_group_id)
            if (pupil.class_id, pupil.year_group_id) == (klass.class_id, year_group_id):
                return []
            return [
                PupilMovedClass(
                    pupil_id=pupil.pupil_id,
                    from_class_id=pupil.class_id,
                    to_class_id=klass.class_id,
                    year_group_id=year_group_id,
                )
            ]
        case MarkPupilLeft():
            _registered(state)
            found = state.pupils.get(command.pupil_id)
            if found is None:
                raise EntryNotFound(f"this school has no pupil {command.pupil_id}")
            if not found.on_roll:
                return []
            return [PupilLeft(pupil_id=found.pupil_id, class_id=found.class_id)]
        case ErasePupil():
            _registered(state)
            found = state.pupils.get(command.pupil_id)
            if found is None:
                raise EntryNotFound(f"this school has no pupil {command.pupil_id}")
            if found.erased:
                return []
            if found.on_roll:
                raise PupilOnRoll(
                    "mark the pupil as left first: a pupil on the roll is never erased"
                )
            return [
                PupilErased(
                    pupil_id=found.pupil_id, class_id=found.class_id, erased_by=command.erased_by
                )
            ]
        case MarkStaffLeft():
            _registered(state)
            member = _staff_member(state, command.staff_id)
            if command.staff_id == command.by:
                raise LeavingYourself("another leader marks you as left, never you yourself")
            return [StaffMemberLeft(staff_id=member.staff_id)] if member.active else []
        case EraseStaffMember():
            _registered(state)
            member = _staff_member(state, command.staff_id)
            if member.erased:
                return []
            if member.active:
                raise StaffStillHere("mark them as left first: a member of staff is never erased")
            return [StaffMemberErased(staff_id=member.staff_id, erased_by=command.erased_by)]
        case ChooseAvatar():
            _registered(state)
            pupil = _on_roll(state, command.pupil_id)
            if pupil.avatar == command.avatar:
                return []
            return [PupilAvatarChosen(pupil_id=pupil.pupil_id, avatar=command.avatar)]
        case AddStaffMember():
            return _add_staff(state, command)
        case AddSchoolWay():
            _registered(state)
            way = existing_way(state, command)
            if way is not None:
                if (way.name, way.description, way.icon, way.colour) == (
                    command.name,
                    command.description,
                    command.icon,
                    command.colour,
                ):
                    return []
                raise IdTaken(f"this school already has a value called {way.name!r}")
            return [
                SchoolWayAdded(
                    school_way_id=command.school_way_id,
                    name=command.name,
                    description=command.description,
                    icon=command.icon,
                    colour=command.colour,
                )
            ]
        case RetireSchoolWay():
            _registered(state)
            way = state.school_ways.get(command.school_way_id)
            if way is None:
                raise EntryNotFound(f"this school has no school way {command.school_way_id}")
            if way.retired:
                return []
            return [SchoolWayRetired(school_way_id=command.school_way_id)]
        case ChangeStaffMember():
            return _change_staff(state, command)
        case RenameYearGroup():
            _registered(state)
            group = state.year_groups.get(command.year_group_id)
            if group is None:
                raise EntryNotFound(f"this school has no year group {command.year_group_id}")
            for named in state.year_groups.values():
                if named.year_group_id != group.year_group_id and same_name(
                    named.name, command.name
                ):
                    raise NameTaken(f"this school already has year group {named.name!r}")
            if group.name == command.name:
                return []
            return [YearGroupRenamed(year_group_id=group.year_group_id, name=command.name)]
        case ChangeClass():
            _registered(state)
            changing = state.classes.get(command.class_id)
            if changing is None:
                raise EntryNotFound(f"this school has no class {command.class_id}")
            if command.year_group_id not in state.year_groups:
                raise UnknownReference(f"this school has no year group {command.year_group_id}")
            for sibling in state.classes.values():
                if (
                    sibling.class_id != changing.class_id
                    and sibling.year_group_id == command.year_group_id
                    and same_name(sibling.name, command.name)
                ):
                    raise NameTaken(f"that year group already has class {sibling.name!r}")
            if (changing.name, changing.year_group_id) == (command.name, command.year_group_id):
                return []
            events: list[Event] = [
                ClassDetailsChanged(
                    class_id=changing.class_id,
                    name=command.name,
                    year_group_id=command.year_group_id,
                )
            ]
            if command.year_group_id != changing.year_group_id:
                # its pupils go with it, as an import regroups them; a pupil of a mixed-age
                # class whose year group was not the class's keeps their own
                events += [
                    PupilMovedClass(
                        pupil_id=p.pupil_id,
                        from_class_id=p.class_id,
                        to_class_id=p.class_id,
                        year_group_id=command.year_group_id,
                    )
                    for p in sorted(state.pupils.values(), key=lambda p: p.pupil_id)
                    if p.on_roll
                    and p.class_id == changing.class_id
                    and p.year_group_id == changing.year_group_id
                ]
            return events
        case ChangeSchoolWay():
            _registered(state)
            way = state.school_ways.get(command.school_way_id)
            if way is None:
                raise EntryNotFound(f"this school has no school way {command.school_way_id}")
            if way.retired:
                raise SchoolWayRetiredAlready("a retired value keeps what it was")
            for other in state.school_ways.values():
                if (
                    other.school_way_id != way.school_way_id
                    and not other.retired
                    and same_name(other.name, command.name)
                ):
                    raise NameTaken(f"this school already has a value called {other.name!r}")
            wanted = (command.name, command.description, command.icon, command.colour)
            if (way.name, way.description, way.icon, way.colour) == wanted:
                return []
            return [
                SchoolWayChanged(
                    school_way_id=way.school_way_id,
                    name=command.name,
                    description=command.description,
                    icon=command.icon,
                    colour=command.colour,
                )
            ]


def _enrol(state: Roster, command: EnrolPupil) -> list[Event]:
    _registered(state)
    klass = _class(state, command.class_id)
    year_group_id = _year_group_for(state, klass, command.year_group_id)
    existing = existing_pupil(state, command)
    wanted = Pupil(
        existing.pupil_id if existing is not None else command.pupil_id,
        command.first_name,
        command.surname,
        year_group_id,
        klass.class_id,
        # a pupil coming back keeps the monster they chose, unless given another
        command.avatar or (existing.avatar if existing is not None else None),
        source_id=command.source_id,
    )
    if existing is not None and existing.on_roll:
        # the monster is the pupil's own choice since: enrolling again does not undo it
        if replace(existing, avatar=None) == replace(wanted, avatar=None):
            return []
        raise IdTaken(f"pupil {command.source_id} is already on roll as someone else")
    # new, or a pupil who left and is coming back under the same source id
    return [enrolled(wanted)]


def enrolled(pupil: Pupil) -> PupilEnrolled:
    return PupilEnrolled(
        pupil_id=pupil.pupil_id,
        first_name=pupil.first_name,
        surname=pupil.surname,
        year_group_id=pupil.year_group_id,
        class_id=pupil.class_id,
        avatar=pupil.avatar,
        source_id=pupil.source_id,
    )


def _staff_member(state: Roster, staff_id: str) -> StaffMember:
    found = state.staff.get(staff_id)
    if found is None:
        raise EntryNotFound(f"this school has no member of staff {staff_id}")
    return found


def _add_staff(state: Roster, command: AddStaffMember) -> list[Event]:
    _registered(state)
    for class_id in sorted(command.class_ids):
        _class(state, class_id)
    existing = existing_staff(state, command)
    wanted = StaffMember(
        existing.staff_id if existing is not None else command.staff_id,
        command.display_name,
        command.email,
        command.role,
        command.class_ids,
        source_id=command.source_id if existing is None else existing.source_id,
    )
    if existing is not None and existing.active:
        if existing == wanted:
            return []
        raise IdTaken(f"{existing.display_name} is already on the staff with other details")
    return staff_joined(wanted)


def _change_staff(state: Roster, command: ChangeStaffMember) -> list[Event]:
    _registered(state)
    member = _staff_member(state, command.staff_id)
    if not member.active:
        raise StaffHasLeft(f"{command.staff_id} has left: add them again if they are back")
    for class_id in sorted(command.class_ids):
        _class(state, class_id)
    if command.staff_id == command.by and command.role != member.role:
        raise ChangingYourOwnRole("another leader changes your role, never you yourself")
    if member.role is StaffRole.leader and command.role is not StaffRole.leader:
        others = [
            s
            for s in state.staff.values()
            if s.active and s.role is StaffRole.leader and s.staff_id != member.staff_id
        ]
        if not others:
            raise LastLeader("make someone else a leader first: a school always has one")
    events: list[Event] = []
    if command.role != member.role:
        events.append(StaffRoleChanged(staff_id=member.staff_id, role=command.role))
    events += [
        StaffAssignedToClass(staff_id=member.staff_id, class_id=c)
        for c in sorted(command.class_ids - member.class_ids)
    ]
    events += [
        StaffUnassignedFromClass(staff_id=member.staff_id, class_id=c)
        for c in sorted(member.class_ids - command.class_ids)
    ]
    return events


def staff_joined(member: StaffMember) -> list[Event]:
    events: list[Event] = [
        StaffMemberAdded(
            staff_id=member.staff_id,
            display_name=member.display_name,
            email=member.email,
            role=member.role,
            source_id=member.source_id,
        )
    ]
    events += [
        StaffAssignedToClass(staff_id=member.staff_id, class_id=c) for c in sorted(member.class_ids)
    ]
    return events
