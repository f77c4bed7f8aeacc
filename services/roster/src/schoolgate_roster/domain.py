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

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from schoolgate_contracts import Event
from schoolgate_contracts.roster import (
    ClassAdded,
    ClassDetailsChanged,
    PupilAvatarChosen,
    PupilDetailsChanged,
    PupilEnrolled,
    PupilLeft,
    PupilMovedClass,
    RosterImported,
    SchoolDetails,
    SchoolDetailsChanged,
    SchoolRegistered,
    SchoolWayAdded,
    SchoolWayRetired,
    StaffAssignedToClass,
    StaffDetailsChanged,
    StaffMemberAdded,
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


@dataclass(frozen=True)
class StaffMember:
    staff_id: str
    display_name: str
    email: str
    role: StaffRole
    class_ids: frozenset[str] = frozenset()
    active: bool = True
    source_id: str | None = None


@dataclass(frozen=True)
class SchoolWay:
    school_way_id: str
    name: str
    description: str = ""
    retired: bool = False


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


def initial_state() -> Roster:
    return Roster()


def _put(entries: Mapping[str, Any], key: str, value: Any) -> dict[str, Any]:
    return {**entries, key: value}


def evolve(state: Roster, event: Event) -> Roster:
    match event:
        case SchoolRegistered() | SchoolDetailsChanged():
            return replace(state, details=event.details)
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
        case SchoolWayAdded():
            way = SchoolWay(event.school_way_id, event.name, event.description)
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


class PupilHasLeft(Conflict):
    slug = "pupil-left"
    title = "That pupil has left the school"


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
class AddSchoolWay:
    school_way_id: str
    """A fresh id, used unless the school already has a value of this name."""
    name: str
    description: str = ""


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
    | ChooseAvatar
    | AddStaffMember
    | AddSchoolWay
    | RetireSchoolWay
)


# -- finding what a command names ------------------------------------------------------------


def _same(a: str, b: str) -> bool:
    return _fold_name(a) == _fold_name(b)


def existing_year_group(state: Roster, command: AddYearGroup) -> YearGroup | None:
    """The year group a command to add one names: its source id's, else its name's."""
    if command.source_id is not None:
        for group in state.year_groups.values():
            if group.source_id == command.source_id:
                return group
    return next((g for g in state.year_groups.values() if _same(g.name, command.name)), None)


def existing_class(state: Roster, command: AddClass) -> SchoolClass | None:
    if command.source_id is not None:
        for klass in state.classes.values():
            if klass.source_id == command.source_id:
                return klass
    return next(
        (
            c
            for c in state.classes.values()
            if _same(c.name, command.name) and c.year_group_id == command.year_group_id
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
        (w for w in state.school_ways.values() if not w.retired and _same(w.name, command.name)),
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
        case AddYearGroup():
            _registered(state)
            group = existing_year_group(state, command)
            if group is not None:
                if _same(group.name, command.name) and command.source_id in (
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
                    _same(existing.name, command.name)
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
                if (way.name, way.description, way.retired) == (
                    command.name,
                    command.description,
                    False,
                ):
                    return []
                raise IdTaken(f"this school already has a value called {way.name!r}")
            return [
                SchoolWayAdded(
                    school_way_id=command.school_way_id,
                    name=command.name,
                    description=command.description,
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
    return [_enrolled(wanted)]


def _enrolled(pupil: Pupil) -> PupilEnrolled:
    return PupilEnrolled(
        pupil_id=pupil.pupil_id,
        first_name=pupil.first_name,
        surname=pupil.surname,
        year_group_id=pupil.year_group_id,
        class_id=pupil.class_id,
        avatar=pupil.avatar,
        source_id=pupil.source_id,
    )


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
    return _staff_joined(wanted)


def _staff_joined(member: StaffMember) -> list[Event]:
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


# -- imports ---------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class RowWarning:
    """A row the import passed over, and why: shown to the leader by file and line."""

    file: str
    line: int
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "reason": self.reason}


@dataclass(frozen=True)
class Snapshot:
    """A whole school as a file describes it, already checked row by row."""

    source: str
    year_groups: Mapping[str, YearGroup]
    classes: Mapping[str, SchoolClass]
    pupils: Mapping[str, Pupil]
    staff: Mapping[str, StaffMember] | None = None
    """None when the file says nothing about staff (the simple CSV): staff stay as they are."""
    school_name: str | None = None
    """The school's name in the file; used to register a school the file is the first to name."""
    terms: tuple[Term, ...] | None = None
    """The school's terms in the file, if it has any."""
    match_by_name: bool = False
    """Year groups and classes are named, not identified, in the file: reuse the id of an
    existing one with the same name rather than adding a second."""
    warnings: tuple[RowWarning, ...] = ()
    """Rows passed over for a reason the leader should see, each with its file and line; the
    rest of the file imports."""
    skipped: Mapping[str, int] = field(default_factory=dict)
    """Rows passed over by design, counted by why ("guardians", "other_schools", "deleted",
    "inactive", ...): the report says how many."""
    school_source_id: str | None = None
    """The file's own id for the school (its ``orgs.csv`` sourcedId), if it has one."""
    delta: bool = False
    """A OneRoster delta: it names only what changed, so what it leaves out stays as it is."""
    removed_pupils: frozenset[str] = frozenset()
    """In a delta, the source ids of pupils the file marks as deleted (they leave)."""
    removed_staff: frozenset[str] = frozenset()
    """In a delta, the source ids of staff the file marks as deleted (they leave)."""
    removed_classes: frozenset[str] = frozenset()
    """In a delta, the source ids of classes the file marks as deleted."""


@dataclass(frozen=True)
class ImportRoster:
    import_id: str
    school_id: str
    snapshot: Snapshot
    full: bool = False
    """A full import: pupils on roll but absent from the file have left (and so staff, but
    for those ``kept``). A delta names only what changed, so it is never full."""
    requested_by: str | None = None
    """The staff id of whoever asked for the import: no import takes them off the staff."""
    applied_by: str | None = None
    """The staff id of whoever confirmed it, if someone else: kept on the staff as well."""
    org_chosen: bool = False
    """The leader picked the file's school themselves: it is theirs whatever it is called."""
    replace_terms: bool = False
    """The leader asked for the school's terms to be the file's: without it they stay."""


class NotThisSchool(Unprocessable):
    slug = "wrong-school"
    title = "This file is for another school"


KEPT_IMPORTER = "requested_import"
KEPT_ADDED_BY_HAND = "added_by_hand"
WARNINGS_SHOWN = 200


@dataclass(frozen=True)
class Move:
    pupil_id: str
    from_class_id: str
    to_class_id: str


@dataclass(frozen=True)
class Kept:
    """A member of staff a full import left in place although the file does not list them."""

    source_id: str | None
    staff_id: str
    reason: str
    """``requested_import``: they asked for it; ``added_by_hand``: no file ever named them."""


def _source_of(thing: SchoolClass | None, fallback: str) -> str:
    return thing.source_id or fallback if thing is not None else fallback


@dataclass
class ImportReport:
    """What an import changed, or would change. Pupil counts lead; the lists name ids, never
    people: the ids of the school's own records (source ids), which the leader can look up
    there."""

    added: list[str] = field(default_factory=list)
    moved: list[Move] = field(default_factory=list)
    """Pupils whose class changed, and only those."""
    regrouped: list[str] = field(default_factory=list)
    """Pupils who stay in their class but are now in another year group (a mixed-age class)."""
    left: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    unchanged: int = 0
    unplaced: list[str] = field(default_factory=list)
    """New pupils of a delta that puts them in no class: not added."""
    year_groups_added: list[str] = field(default_factory=list)
    year_groups_renamed: list[str] = field(default_factory=list)
    classes_added: list[str] = field(default_factory=list)
    classes_changed: list[str] = field(default_factory=list)
    classes_removed: list[str] = field(default_factory=list)
    """Classes a delta marks deleted: reported, not deleted (their history stays)."""
    staff_added: list[str] = field(default_factory=list)
    staff_changed: list[str] = field(default_factory=list)
    staff_left: list[str] = field(default_factory=list)
    staff_unchanged: int = 0
    kept: list[Kept] = field(default_factory=list)
    school_registered: bool = False
    school_details_changed: bool = False
    school_source_id: str | None = None
    """The file's id for its school."""
    school_name: str | None = None
    """The file's name for its school."""
    school_recorded: bool = False
    """This import records the file's id as the school's own."""
    warnings: tuple[RowWarning, ...] = ()
    skipped: Mapping[str, int] = field(default_factory=dict)
    events: int = 0
    already_applied: Tally | None = None
    """Set when this import id was applied before: what it did then."""

    @property
    def tally(self) -> Tally:
        if self.already_applied is not None:
            return self.already_applied
        return Tally(len(self.added), len(self.moved), len(self.left), self.unchanged)

    def as_json(self, *, dry_run: bool = False) -> dict[str, Any]:
        tally = self.tally
        return {
            "dry_run": dry_run,
            "added": tally.added,
            "moved": tally.moved,
            "left": tally.left,
            "unchanged": tally.unchanged,
            "renamed": len(self.renamed),
            "pupils": {
                "added": sorted(self.added),
                "moved": [m.__dict__ for m in sorted(self.moved, key=lambda m: m.pupil_id)],
                "regrouped": sorted(self.regrouped),
                "left": sorted(self.left),
                "renamed": sorted(self.renamed),
                "unplaced": sorted(self.unplaced),
            },
            "year_groups": {
                "added": sorted(self.year_groups_added),
                "renamed": sorted(self.year_groups_renamed),
            },
            "classes": {
                "added": sorted(self.classes_added),
                "changed": sorted(self.classes_changed),
                "removed": sorted(self.classes_removed),
            },
            "staff": {
                "added": sorted(self.staff_added),
                "changed": sorted(self.staff_changed),
                "left": sorted(self.staff_left),
                "unchanged": self.staff_unchanged,
            },
            "kept": [
                {"source_id": k.source_id, "staff_id": k.staff_id, "reason": k.reason}
                for k in sorted(self.kept, key=lambda k: (k.reason, k.staff_id))
            ],
            "school": {
                "source_id": self.school_source_id,
                "name": self.school_name,
                "registered": self.school_registered,
                "details_changed": self.school_details_changed,
                "recorded": self.school_recorded,
            },
            "warnings": [w.as_json() for w in sorted(self.warnings)[:WARNINGS_SHOWN]],
            "warnings_count": len(self.warnings),
            "skipped": dict(sorted(self.skipped.items())),
            "events": self.events,
            "already_applied": self.already_applied is not None,
        }


@dataclass(frozen=True)
class ImportDecision:
    events: list[Event]
    report: ImportReport


def _fold_name(text: str) -> str:
    return " ".join(text.split()).casefold()


Mint = Callable[[str, str], str]
"""Makes a fresh deployment-unique id of a kind for the thing of a source id (``new_key``,
which ignores the source id): an input, so decisions stay pure."""


def assign_ids(snapshot: Snapshot, state: Roster, mint: Mint) -> Snapshot:
    """The file's year groups, classes, pupils and staff under this school's ids.

    A file names things by the school's own ids (its source ids). Each finds what already
    has that source id in this school; a year group also finds one of the same name (no
    second "Year 3") and keeps the name the school gave it, a class of a file that names
    rather than identifies them finds one by name, and a member of staff finds the one with
    their email, so a file that renamed their id in the school's system still signs the
    same person in. Anything else is new and gets a fresh id.

    A delta may put a pupil in a class it does not list (one the school has, found by its
    source id), and leaves a pupil whose class it does not say (``class_id == ""``) in the
    class they are in; a new pupil it puts in no class is left out (``decide_import``
    reports them). A reference to a class neither the file nor the school has is refused.
    """
    groups_by_source = {g.source_id: g for g in state.year_groups.values() if g.source_id}
    groups_by_name = {_fold_name(g.name): g for g in state.year_groups.values()}
    group_ids: dict[str, str] = {}
    year_groups: dict[str, YearGroup] = {}
    for sid, group in snapshot.year_groups.items():
        found = groups_by_source.get(sid) or groups_by_name.get(_fold_name(group.name))
        if found is not None:
            # the school's name stands: a school may call its Year 3 "Owls"
            group_ids[sid] = found.year_group_id
            year_groups[found.year_group_id] = found
            continue
        gid = mint("yg", sid)
        group_ids[sid] = gid
        year_groups[gid] = YearGroup(gid, group.name, sid)

    def group_of(sid: str) -> str | None:
        found = groups_by_source.get(sid)
        return group_ids.get(sid) or (found.year_group_id if found is not None else None)

    unknown: list[str] = []
    classes_by_source = {c.source_id: c for c in state.classes.values() if c.source_id}
    class_ids: dict[str, str] = {}
    classes: dict[str, SchoolClass] = {}
    for sid, klass in snapshot.classes.items():
        in_group = group_of(klass.year_group_id)
        if in_group is None:
            unknown.append(f"class {sid}'s year group {klass.year_group_id}")
            continue
        found_class = classes_by_source.get(sid)
        if found_class is None and snapshot.match_by_name:
            named = [c for c in state.classes.values() if _same(c.name, klass.name)]
            same_group = [c for c in named if c.year_group_id == in_group]
            found_class = same_group[0] if same_group else named[0] if len(named) == 1 else None
        cid = found_class.class_id if found_class is not None else mint("cls", sid)
        class_ids[sid] = cid
        name = (
            found_class.name
            if found_class is not None and _same(found_class.name, klass.name)
            else klass.name
        )
        source = found_class.source_id if found_class is not None else sid
        classes[cid] = SchoolClass(cid, name, in_group, source)

    def class_of(sid: str) -> SchoolClass | None:
        if sid in class_ids:
            return classes[class_ids[sid]]
        return classes_by_source.get(sid)

    pupils_by_source = {p.source_id: p for p in state.pupils.values() if p.source_id}
    pupils: dict[str, Pupil] = {}
    for sid, pupil in snapshot.pupils.items():
        found_pupil = pupils_by_source.get(sid)
        pid = found_pupil.pupil_id if found_pupil is not None else mint("pup", sid)
        if not pupil.class_id:
            if found_pupil is None or not found_pupil.on_roll:
                continue  # nowhere to put them
            class_id, year_group_id = found_pupil.class_id, found_pupil.year_group_id
        else:
            placed = class_of(pupil.class_id)
            if placed is None:
                unknown.append(f"pupil {sid}'s class {pupil.class_id}")
                continue
            class_id = placed.class_id
            year_group_id = group_of(pupil.year_group_id) or placed.year_group_id
        pupils[pid] = replace(
            pupil, pupil_id=pid, class_id=class_id, year_group_id=year_group_id, source_id=sid
        )

    staff: dict[str, StaffMember] | None = None
    if snapshot.staff is not None:
        staff_by_source = {m.source_id: m for m in state.staff.values() if m.source_id}
        staff_by_email = {
            m.email.strip().casefold(): m for m in state.staff.values() if m.email.strip()
        }
        staff = {}
        for sid, member in snapshot.staff.items():
            email = member.email.strip().casefold()
            found_member = staff_by_source.get(sid) or (
                staff_by_email.get(email) if email else None
            )
            mid = found_member.staff_id if found_member is not None else mint("stf", sid)
            teaches: set[str] = set()
            for c in member.class_ids:
                taught = class_of(c)
                if taught is None:
                    unknown.append(f"staff {sid}'s class {c}")
                else:
                    teaches.add(taught.class_id)
            staff[mid] = replace(
                member,
                staff_id=mid,
                class_ids=frozenset(teaches),
                source_id=found_member.source_id if found_member is not None else sid,
            )
    if unknown:
        shown = "; ".join(sorted(unknown)[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        raise UnknownReference(
            f"the file names classes or year groups that neither it nor the school has: {shown}"
            f"{more}"
        )
    return replace(
        snapshot,
        year_groups=year_groups,
        classes=classes,
        pupils=pupils,
        staff=staff,
        match_by_name=False,
    )


def is_this_school(state: Roster, command: ImportRoster) -> bool:
    """Whether the file is this school's own, so its id may be recorded as the school's.

    A file that does not name its school (the simple CSV) is no school's: it records
    nothing. Once a school's id is recorded, a file of another school is refused whatever
    the import; before, a full import of a file naming another school is refused unless the
    leader chose that school in it, as a partial one could only add people."""
    file_id, file_name = command.snapshot.school_source_id, command.snapshot.school_name
    if file_id is None:
        return False
    details = state.details
    if state.source_id is not None:
        if file_id == state.source_id:
            return True
        raise NotThisSchool(
            f"this file is for {file_name or file_id} ({file_id}), and this school's files"
            f" name it {state.source_id}",
            schools=[{"source_id": file_id, "name": file_name}],
        )
    if details is None or command.org_chosen:
        return True
    if file_name is not None and _same(file_name, details.name):
        return True
    if command.full and not command.snapshot.delta:
        raise NotThisSchool(
            f"this file is for {file_name or file_id}, not {details.name}: a whole-school"
            " import takes only the school's own file (choose the school in the file if it is"
            " yours under another name)",
            schools=[{"source_id": file_id, "name": file_name}],
        )
    return False


def decide_import(state: Roster, command: ImportRoster, mint: Mint) -> ImportDecision:
    """Diff a school's file against the roster: the events that make them agree.

    A full import marks as left whoever is on roll or on the staff but not in the file,
    except the member of staff who asked for it and staff no file ever named (added by
    hand): they are ``kept``. A delta changes only what it names, and marks as left only
    whom it marks deleted."""
    file = command.snapshot
    report = ImportReport(
        school_source_id=file.school_source_id,
        school_name=file.school_name,
        warnings=file.warnings,
        skipped=dict(file.skipped),
    )
    done = state.imports.get(command.import_id)
    if done is not None:
        # this very import was applied before (a job resumed after a restart, applied twice)
        report.already_applied = done
        return ImportDecision([], report)
    ours = is_this_school(state, command)
    snapshot = assign_ids(file, state, mint)
    report.unplaced = sorted(
        sid for sid in file.pupils if sid not in {p.source_id for p in snapshot.pupils.values()}
    )
    full = command.full and not snapshot.delta
    events: list[Event] = []
    events += _import_school(state, command, snapshot, ours, report)
    events += _import_structure(state, snapshot, report)
    events += _import_pupils(state, snapshot, full, report)
    importers = {who for who in (command.requested_by, command.applied_by) if who is not None}
    events += _import_staff(state, snapshot, full, importers, report)
    record = file.school_source_id if ours and state.source_id is None else None
    report.school_recorded = record is not None
    if events or record is not None:
        tally = report.tally
        events.append(
            RosterImported(
                import_id=command.import_id,
                source=snapshot.source,
                added=tally.added,
                moved=tally.moved,
                left=tally.left,
                unchanged=tally.unchanged,
                school_source_id=record,
            )
        )
    report.events = len(events)
    return ImportDecision(events, report)


def _import_school(
    state: Roster, command: ImportRoster, snapshot: Snapshot, ours: bool, report: ImportReport
) -> list[Event]:
    if state.details is None:
        if snapshot.school_name is None:
            raise SchoolNotFound("register the school before importing this file")
        details = SchoolDetails(name=snapshot.school_name, terms=snapshot.terms or ())
        report.school_registered = True
        return [SchoolRegistered(school_id=command.school_id, details=details)]
    # only when asked, and never another school's terms (a file naming no school may set them)
    own_terms = ours or snapshot.school_source_id is None
    if (
        command.replace_terms
        and own_terms
        and snapshot.terms is not None
        and snapshot.terms != state.details.terms
    ):
        report.school_details_changed = True
        details = state.details.model_copy(update={"terms": snapshot.terms})
        return [SchoolDetailsChanged(school_id=command.school_id, details=details)]
    return []


def _import_structure(state: Roster, snapshot: Snapshot, report: ImportReport) -> list[Event]:
    events: list[Event] = []
    for gid, group in sorted(snapshot.year_groups.items()):
        existing_group = state.year_groups.get(gid)
        if existing_group is None:
            events.append(
                YearGroupAdded(year_group_id=gid, name=group.name, source_id=group.source_id)
            )
            report.year_groups_added.append(group.source_id or gid)
        elif existing_group.name != group.name:
            events.append(YearGroupRenamed(year_group_id=gid, name=group.name))
            report.year_groups_renamed.append(group.source_id or gid)
    for cid, klass in sorted(snapshot.classes.items()):
        existing = state.classes.get(cid)
        if existing is None:
            events.append(
                ClassAdded(
                    class_id=cid,
                    name=klass.name,
                    year_group_id=klass.year_group_id,
                    source_id=klass.source_id,
                )
            )
            report.classes_added.append(klass.source_id or cid)
        elif (existing.name, existing.year_group_id) != (klass.name, klass.year_group_id):
            events.append(
                ClassDetailsChanged(
                    class_id=cid, name=klass.name, year_group_id=klass.year_group_id
                )
            )
            report.classes_changed.append(klass.source_id or cid)
    ours = {c.source_id for c in state.classes.values() if c.source_id}
    report.classes_removed = sorted(snapshot.removed_classes & ours)
    return events


def _import_pupils(
    state: Roster, snapshot: Snapshot, full: bool, report: ImportReport
) -> list[Event]:
    events: list[Event] = []
    for pid, pupil in sorted(snapshot.pupils.items()):
        existing = state.pupils.get(pid)
        if existing is None or not existing.on_roll:
            avatar = pupil.avatar if existing is None else existing.avatar
            events.append(_enrolled(replace(pupil, avatar=avatar)))
            report.added.append(pupil.source_id or pid)
            continue
        changed = False
        if (existing.first_name, existing.surname) != (pupil.first_name, pupil.surname):
            events.append(
                PupilDetailsChanged(
                    pupil_id=pid, first_name=pupil.first_name, surname=pupil.surname
                )
            )
            report.renamed.append(pupil.source_id or pid)
            changed = True
        if (existing.class_id, existing.year_group_id) != (pupil.class_id, pupil.year_group_id):
            events.append(
                PupilMovedClass(
                    pupil_id=pid,
                    from_class_id=existing.class_id,
                    to_class_id=pupil.class_id,
                    year_group_id=pupil.year_group_id,
                )
            )
            if existing.class_id != pupil.class_id:
                report.moved.append(
                    Move(
                        pupil.source_id or pid,
                        _source_of(state.classes.get(existing.class_id), existing.class_id),
                        _source_of(snapshot.classes.get(pupil.class_id), pupil.class_id),
                    )
                )
            else:
                report.regrouped.append(pupil.source_id or pid)
            changed = True
        if not changed:
            report.unchanged += 1
    if full:
        for pid, existing in sorted(state.pupils.items()):
            if existing.on_roll and pid not in snapshot.pupils:
                events.append(PupilLeft(pupil_id=pid, class_id=existing.class_id))
                report.left.append(existing.source_id or pid)
    elif snapshot.removed_pupils:
        for pid, existing in sorted(state.pupils.items()):
            removed = existing.source_id in snapshot.removed_pupils
            if removed and existing.on_roll and pid not in snapshot.pupils:
                events.append(PupilLeft(pupil_id=pid, class_id=existing.class_id))
                report.left.append(existing.source_id or pid)
    return events


def _import_staff(
    state: Roster,
    snapshot: Snapshot,
    full: bool,
    importers: set[str],
    report: ImportReport,
) -> list[Event]:
    events: list[Event] = []
    staff: Mapping[str, StaffMember] = snapshot.staff or {}
    for sid, member in sorted(staff.items()):
        existing = state.staff.get(sid)
        if existing is None or not existing.active:
            events += _staff_joined(member)
            report.staff_added.append(member.source_id or sid)
            continue
        before = len(events)
        if (existing.display_name, existing.email) != (member.display_name, member.email):
            events.append(
                StaffDetailsChanged(
                    staff_id=sid, display_name=member.display_name, email=member.email
                )
            )
        if existing.role != member.role:
            events.append(StaffRoleChanged(staff_id=sid, role=member.role))
        # a delta names the enrolments that changed, not every class someone teaches
        teaches = member.class_ids | existing.class_ids if snapshot.delta else member.class_ids
        events += [
            StaffAssignedToClass(staff_id=sid, class_id=c)
            for c in sorted(teaches - existing.class_ids)
        ]
        events += [
            StaffUnassignedFromClass(staff_id=sid, class_id=c)
            for c in sorted(existing.class_ids - teaches)
        ]
        if len(events) > before:
            report.staff_changed.append(member.source_id or sid)
        else:
            report.staff_unchanged += 1
    for sid, existing in sorted(state.staff.items()):
        if not existing.active or sid in staff:
            continue
        if full and snapshot.staff is not None:
            going = True
        else:
            going = existing.source_id is not None and existing.source_id in snapshot.removed_staff
        if not going:
            continue
        if sid in importers:
            # whoever imports stays able to sign in and put right what the file got wrong
            report.kept.append(Kept(existing.source_id, sid, KEPT_IMPORTER))
        elif existing.source_id is None:
            report.kept.append(Kept(None, sid, KEPT_ADDED_BY_HAND))
        else:
            events.append(StaffMemberLeft(staff_id=sid))
            report.staff_left.append(existing.source_id)
    return events
