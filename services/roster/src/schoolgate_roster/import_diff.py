"""A school's file against its roster: the events that make them agree, and a report of
what they change. Pure: a file (``Snapshot``) and a state in, events and a report out."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from schoolgate_contracts import Event
from schoolgate_contracts.roster import (
    ClassAdded,
    ClassDetailsChanged,
    PupilDetailsChanged,
    PupilLeft,
    PupilMovedClass,
    RosterImported,
    SchoolDetails,
    SchoolDetailsChanged,
    SchoolRegistered,
    StaffAssignedToClass,
    StaffDetailsChanged,
    StaffMemberLeft,
    StaffRoleChanged,
    StaffUnassignedFromClass,
    Term,
    YearGroupAdded,
    YearGroupRenamed,
)
from schoolgate_kit.problems import Unprocessable

from schoolgate_roster.domain import (
    Pupil,
    Roster,
    SchoolClass,
    SchoolNotFound,
    StaffMember,
    Tally,
    UnknownReference,
    YearGroup,
    enrolled,
    fold_name,
    same_name,
    staff_joined,
)


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
    groups_by_name = {fold_name(g.name): g for g in state.year_groups.values()}
    group_ids: dict[str, str] = {}
    year_groups: dict[str, YearGroup] = {}
    for sid, group in snapshot.year_groups.items():
        found = groups_by_source.get(sid) or groups_by_name.get(fold_name(group.name))
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
            named = [c for c in state.classes.values() if same_name(c.name, klass.name)]
            same_group = [c for c in named if c.year_group_id == in_group]
            found_class = same_group[0] if same_group else named[0] if len(named) == 1 else None
        cid = found_class.class_id if found_class is not None else mint("cls", sid)
        class_ids[sid] = cid
        name = (
            found_class.name
            if found_class is not None and same_name(found_class.name, klass.name)
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
    if file_name is not None and same_name(file_name, details.name):
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
            events.append(enrolled(replace(pupil, avatar=avatar)))
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
            events += staff_joined(member)
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
