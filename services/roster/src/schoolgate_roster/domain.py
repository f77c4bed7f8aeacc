"""A school's roster: its structure, its people and its values; what may happen to it, and
what it becomes.

Everything a school's roster holds lives in one stream, ``roster-{school_id}``, so a whole
import is decided against one state and appended atomically at one expected version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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


@dataclass(frozen=True)
class SchoolClass:
    class_id: str
    name: str
    year_group_id: str


@dataclass(frozen=True)
class Pupil:
    pupil_id: str
    first_name: str
    surname: str
    year_group_id: str
    class_id: str
    avatar: str | None = None
    on_roll: bool = True


@dataclass(frozen=True)
class StaffMember:
    staff_id: str
    display_name: str
    email: str
    role: StaffRole
    class_ids: frozenset[str] = frozenset()
    active: bool = True


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


def initial_state() -> Roster:
    return Roster()


def _put(entries: Mapping[str, Any], key: str, value: Any) -> dict[str, Any]:
    return {**entries, key: value}


def evolve(state: Roster, event: Event) -> Roster:
    match event:
        case SchoolRegistered() | SchoolDetailsChanged():
            return replace(state, details=event.details)
        case YearGroupAdded() | YearGroupRenamed():
            group = YearGroup(event.year_group_id, event.name)
            return replace(state, year_groups=_put(state.year_groups, event.year_group_id, group))
        case ClassAdded() | ClassDetailsChanged():
            klass = SchoolClass(event.class_id, event.name, event.year_group_id)
            return replace(state, classes=_put(state.classes, event.class_id, klass))
        case PupilEnrolled():
            pupil = Pupil(
                event.pupil_id,
                event.first_name,
                event.surname,
                event.year_group_id,
                event.class_id,
                event.avatar,
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
            member = StaffMember(event.staff_id, event.display_name, event.email, event.role)
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
            return replace(state, imports=_put(state.imports, event.import_id, tally))
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
    name: str


@dataclass(frozen=True)
class AddClass:
    class_id: str
    name: str
    year_group_id: str


@dataclass(frozen=True)
class EnrolPupil:
    pupil_id: str
    first_name: str
    surname: str
    class_id: str
    year_group_id: str | None = None
    """Defaults to the class's year group; mixed-age classes may say otherwise."""
    avatar: str | None = None


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
    display_name: str
    email: str
    role: StaffRole
    class_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AddSchoolWay:
    school_way_id: str
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
            group = state.year_groups.get(command.year_group_id)
            if group is not None:
                if group.name == command.name:
                    return []
                raise IdTaken(f"year group {command.year_group_id} is already {group.name!r}")
            return [YearGroupAdded(year_group_id=command.year_group_id, name=command.name)]
        case AddClass():
            _registered(state)
            if command.year_group_id not in state.year_groups:
                raise UnknownReference(f"this school has no year group {command.year_group_id}")
            wanted = SchoolClass(command.class_id, command.name, command.year_group_id)
            existing = state.classes.get(command.class_id)
            if existing is not None:
                if existing == wanted:
                    return []
                raise IdTaken(f"class {command.class_id} is already {existing.name!r}")
            return [
                ClassAdded(
                    class_id=wanted.class_id, name=wanted.name, year_group_id=wanted.year_group_id
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
            wanted_way = SchoolWay(command.school_way_id, command.name, command.description)
            way = state.school_ways.get(command.school_way_id)
            if way is not None:
                if way == wanted_way:
                    return []
                raise IdTaken(f"school way {command.school_way_id} is already {way.name!r}")
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
    existing = state.pupils.get(command.pupil_id)
    wanted = Pupil(
        command.pupil_id,
        command.first_name,
        command.surname,
        year_group_id,
        klass.class_id,
        # a pupil coming back keeps the monster they chose, unless given another
        command.avatar or (existing.avatar if existing is not None else None),
    )
    if existing is not None and existing.on_roll:
        # the monster is the pupil's own choice since: enrolling again does not undo it
        if replace(existing, avatar=None) == replace(wanted, avatar=None):
            return []
        raise IdTaken(f"pupil {command.pupil_id} is already on roll as someone else")
    # new, or a pupil who left and is coming back under the same id
    return [
        PupilEnrolled(
            pupil_id=wanted.pupil_id,
            first_name=wanted.first_name,
            surname=wanted.surname,
            year_group_id=wanted.year_group_id,
            class_id=wanted.class_id,
            avatar=wanted.avatar,
        )
    ]


def _add_staff(state: Roster, command: AddStaffMember) -> list[Event]:
    _registered(state)
    for class_id in sorted(command.class_ids):
        _class(state, class_id)
    wanted = StaffMember(
        command.staff_id, command.display_name, command.email, command.role, command.class_ids
    )
    existing = state.staff.get(command.staff_id)
    if existing is not None and existing.active:
        if existing == wanted:
            return []
        raise IdTaken(f"staff member {command.staff_id} already exists with other details")
    return _staff_joined(wanted)


def _staff_joined(member: StaffMember) -> list[Event]:
    events: list[Event] = [
        StaffMemberAdded(
            staff_id=member.staff_id,
            display_name=member.display_name,
            email=member.email,
            role=member.role,
        )
    ]
    events += [
        StaffAssignedToClass(staff_id=member.staff_id, class_id=c) for c in sorted(member.class_ids)
    ]
    return events


# -- imports ---------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class ImportRoster:
    import_id: str
    school_id: str
    snapshot: Snapshot
    full: bool = True
    """A full import: pupils on roll but absent from the file have left (and so staff)."""


@dataclass(frozen=True)
class Move:
    pupil_id: str
    from_class_id: str
    to_class_id: str


@dataclass
class ImportReport:
    """What an import changed. Pupil counts lead; the lists name ids, never people."""

    added: list[str] = field(default_factory=list)
    moved: list[Move] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    unchanged: int = 0
    year_groups_added: list[str] = field(default_factory=list)
    year_groups_renamed: list[str] = field(default_factory=list)
    classes_added: list[str] = field(default_factory=list)
    classes_changed: list[str] = field(default_factory=list)
    staff_added: list[str] = field(default_factory=list)
    staff_changed: list[str] = field(default_factory=list)
    staff_left: list[str] = field(default_factory=list)
    staff_unchanged: int = 0
    school_registered: bool = False
    school_details_changed: bool = False
    events: int = 0
    already_applied: Tally | None = None
    """Set when this import id was applied before: what it did then."""

    @property
    def tally(self) -> Tally:
        if self.already_applied is not None:
            return self.already_applied
        return Tally(len(self.added), len(self.moved), len(self.left), self.unchanged)

    def as_json(self) -> dict[str, Any]:
        tally = self.tally
        return {
            "added": tally.added,
            "moved": tally.moved,
            "left": tally.left,
            "unchanged": tally.unchanged,
            "renamed": len(self.renamed),
            "pupils": {
                "added": self.added,
                "moved": [m.__dict__ for m in self.moved],
                "left": self.left,
                "renamed": self.renamed,
            },
            "year_groups": {"added": self.year_groups_added, "renamed": self.year_groups_renamed},
            "classes": {"added": self.classes_added, "changed": self.classes_changed},
            "staff": {
                "added": self.staff_added,
                "changed": self.staff_changed,
                "left": self.staff_left,
                "unchanged": self.staff_unchanged,
            },
            "school": {
                "registered": self.school_registered,
                "details_changed": self.school_details_changed,
            },
            "events": self.events,
            "already_applied": self.already_applied is not None,
        }


@dataclass(frozen=True)
class ImportDecision:
    events: list[Event]
    report: ImportReport


def _fold_name(text: str) -> str:
    return " ".join(text.split()).casefold()


def _free_id(wanted: str, taken: Mapping[str, Any], claimed: set[str]) -> str:
    candidate, n = wanted, 1
    while candidate in taken or candidate in claimed:
        n += 1
        suffix = f"-{n}"
        candidate = wanted[: 64 - len(suffix)] + suffix
    return candidate


def align_names(snapshot: Snapshot, state: Roster) -> Snapshot:
    """Give named year groups and classes the ids they already have in this school."""
    if not snapshot.match_by_name:
        return snapshot
    known_groups = {_fold_name(g.name): g.year_group_id for g in state.year_groups.values()}
    group_ids: dict[str, str] = {}
    claimed: set[str] = set()
    for sid, group in snapshot.year_groups.items():
        found = known_groups.get(_fold_name(group.name))
        group_ids[sid] = found or _free_id(sid, state.year_groups, claimed)
        claimed.add(group_ids[sid])
    class_ids: dict[str, str] = {}
    claimed = set()
    for sid, klass in snapshot.classes.items():
        named = [c for c in state.classes.values() if _fold_name(c.name) == _fold_name(klass.name)]
        same_group = [c for c in named if c.year_group_id == group_ids[klass.year_group_id]]
        if same_group:
            class_ids[sid] = same_group[0].class_id
        elif len(named) == 1:
            class_ids[sid] = named[0].class_id
        else:
            class_ids[sid] = _free_id(sid, state.classes, claimed)
        claimed.add(class_ids[sid])
    year_groups = {
        group_ids[s]: YearGroup(group_ids[s], g.name) for s, g in snapshot.year_groups.items()
    }
    for gid, existing in state.year_groups.items():
        # the file spells a known name differently ("year 3" for "Year 3"): keep ours
        if gid in year_groups and _fold_name(existing.name) == _fold_name(year_groups[gid].name):
            year_groups[gid] = existing
    classes = {
        class_ids[s]: SchoolClass(class_ids[s], c.name, group_ids[c.year_group_id])
        for s, c in snapshot.classes.items()
    }
    for cid, klass in state.classes.items():
        if cid in classes and _fold_name(klass.name) == _fold_name(classes[cid].name):
            classes[cid] = replace(classes[cid], name=klass.name)
    pupils = {
        pid: replace(p, class_id=class_ids[p.class_id], year_group_id=group_ids[p.year_group_id])
        for pid, p in snapshot.pupils.items()
    }
    return replace(
        snapshot, year_groups=year_groups, classes=classes, pupils=pupils, match_by_name=False
    )


def decide_import(state: Roster, command: ImportRoster) -> ImportDecision:
    """Diff a whole school's file against the roster: the events that make them agree."""
    report = ImportReport()
    done = state.imports.get(command.import_id)
    if done is not None:
        # this very import was applied before (a job resumed after a restart)
        report.already_applied = done
        return ImportDecision([], report)
    snapshot = align_names(command.snapshot, state)
    events: list[Event] = []
    events += _import_school(state, command, snapshot, report)
    events += _import_structure(state, snapshot, report)
    events += _import_pupils(state, snapshot, command.full, report)
    if snapshot.staff is not None:
        events += _import_staff(state, snapshot.staff, command.full, report)
    if events:
        tally = report.tally
        events.append(
            RosterImported(
                import_id=command.import_id,
                source=snapshot.source,
                added=tally.added,
                moved=tally.moved,
                left=tally.left,
                unchanged=tally.unchanged,
            )
        )
    report.events = len(events)
    return ImportDecision(events, report)


def _import_school(
    state: Roster, command: ImportRoster, snapshot: Snapshot, report: ImportReport
) -> list[Event]:
    if state.details is None:
        if snapshot.school_name is None:
            raise SchoolNotFound("register the school before importing this file")
        details = SchoolDetails(name=snapshot.school_name, terms=snapshot.terms or ())
        report.school_registered = True
        return [SchoolRegistered(school_id=command.school_id, details=details)]
    if snapshot.terms is not None and snapshot.terms != state.details.terms:
        report.school_details_changed = True
        details = state.details.model_copy(update={"terms": snapshot.terms})
        return [SchoolDetailsChanged(school_id=command.school_id, details=details)]
    return []


def _import_structure(state: Roster, snapshot: Snapshot, report: ImportReport) -> list[Event]:
    events: list[Event] = []
    for gid, group in sorted(snapshot.year_groups.items()):
        existing_group = state.year_groups.get(gid)
        if existing_group is None:
            events.append(YearGroupAdded(year_group_id=gid, name=group.name))
            report.year_groups_added.append(gid)
        elif existing_group.name != group.name:
            events.append(YearGroupRenamed(year_group_id=gid, name=group.name))
            report.year_groups_renamed.append(gid)
    for cid, klass in sorted(snapshot.classes.items()):
        existing = state.classes.get(cid)
        if existing is None:
            events.append(
                ClassAdded(class_id=cid, name=klass.name, year_group_id=klass.year_group_id)
            )
            report.classes_added.append(cid)
        elif existing != klass:
            events.append(
                ClassDetailsChanged(
                    class_id=cid, name=klass.name, year_group_id=klass.year_group_id
                )
            )
            report.classes_changed.append(cid)
    return events


def _import_pupils(
    state: Roster, snapshot: Snapshot, full: bool, report: ImportReport
) -> list[Event]:
    events: list[Event] = []
    for pid, pupil in sorted(snapshot.pupils.items()):
        existing = state.pupils.get(pid)
        if existing is None or not existing.on_roll:
            events.append(
                PupilEnrolled(
                    pupil_id=pid,
                    first_name=pupil.first_name,
                    surname=pupil.surname,
                    year_group_id=pupil.year_group_id,
                    class_id=pupil.class_id,
                    avatar=pupil.avatar if existing is None else existing.avatar,
                )
            )
            report.added.append(pid)
            continue
        changed = False
        if (existing.first_name, existing.surname) != (pupil.first_name, pupil.surname):
            events.append(
                PupilDetailsChanged(
                    pupil_id=pid, first_name=pupil.first_name, surname=pupil.surname
                )
            )
            report.renamed.append(pid)
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
            report.moved.append(Move(pid, existing.class_id, pupil.class_id))
            changed = True
        if not changed:
            report.unchanged += 1
    if full:
        for pid, existing in sorted(state.pupils.items()):
            if existing.on_roll and pid not in snapshot.pupils:
                events.append(PupilLeft(pupil_id=pid, class_id=existing.class_id))
                report.left.append(pid)
    return events


def _import_staff(
    state: Roster, staff: Mapping[str, StaffMember], full: bool, report: ImportReport
) -> list[Event]:
    events: list[Event] = []
    for sid, member in sorted(staff.items()):
        existing = state.staff.get(sid)
        if existing is None or not existing.active:
            events += _staff_joined(member)
            report.staff_added.append(sid)
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
        events += [
            StaffAssignedToClass(staff_id=sid, class_id=c)
            for c in sorted(member.class_ids - existing.class_ids)
        ]
        events += [
            StaffUnassignedFromClass(staff_id=sid, class_id=c)
            for c in sorted(existing.class_ids - member.class_ids)
        ]
        if len(events) > before:
            report.staff_changed.append(sid)
        else:
            report.staff_unchanged += 1
    if full:
        for sid, existing in sorted(state.staff.items()):
            if existing.active and sid not in staff:
                events.append(StaffMemberLeft(staff_id=sid))
                report.staff_left.append(sid)
    return events
