"""Reading a OneRoster CSV export (1.0 to 1.2, bulk or delta) into a ``Snapshot``.

Real exports differ from the specification and from each other, so the reader is shaped by
published ones: an org of type department as the school, district files with several
schools, US dates, ``toBeDeleted`` in camel case, no manifest, the 1.0 ``grade`` column,
misspelled 1.2 columns, nameless columns and ragged row ends. It reads the way a primary
school is shaped:

- the school is the file's one school (or department) org; in a district file the one the
  leader picked, or the one whose sourcedId an earlier import recorded; rows of the other
  schools are passed over and counted;
- its classes are its ``homeroom`` classes; a file without any takes its scheduled classes;
- a class's year group is its first ``grades`` code ("03" is "Year 3", or "Grade 3");
- a pupil is a user with the ``student`` role enrolled in exactly one of those classes;
- staff are users with a staff role (teacher, aide, principal, administrator, ...), assigned
  to the classes they are enrolled in as teacher or aide;
- roles come from ``roles.csv`` (1.2); without it, from the ``role`` column of ``users.csv``
  (1.1) or from the users' enrollments;
- ``academicSessions.csv`` rows of type term (or semester) become the school's terms;
- rows whose status is ``tobedeleted`` or ``inactive`` (in any case) are gone; in a delta
  the deleted pupils, staff and classes are the snapshot's removals.

What makes the import wrong is an error (bad ids, a pupil in two homerooms, an unknown role,
a broken zip); what only leaves a row out is a warning (a class without grades, a pupil in no
class, a row whose org is not in ``orgs.csv``, an unreadable term date), unless so much is
left out that the import means nothing. Everything is found in one pass over every file.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from schoolgate_contracts.roster import StaffRole, Term

from schoolgate_roster.domain import (
    Pupil,
    SchoolClass,
    StaffMember,
    YearGroup,
    is_id,
)
from schoolgate_roster.import_diff import (
    RowWarning,
    Snapshot,
)
from schoolgate_roster.importing import (
    MAX_UNPACKED_BYTES,
    ONEROSTER,
    ChooseSchool,
    ImportRejected,
    Row,
    RowError,
    Table,
    WrongSchool,
    _Counter,
    _id,
    _name,
    read_table,
)

MANIFEST = "manifest.csv"
ORGS = "orgs.csv"
SESSIONS = "academicSessions.csv"
CLASSES = "classes.csv"
USERS = "users.csv"
ROLES = "roles.csv"
ENROLLMENTS = "enrollments.csv"

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    # only what is read: real files misspell or leave out the rest (dateLastModified, status)
    MANIFEST: ("propertyName", "value"),
    ORGS: ("sourcedId", "name", "type"),
    SESSIONS: ("sourcedId", "title", "type", "startDate", "endDate"),
    CLASSES: ("sourcedId", "title", "grades", "schoolSourcedId"),
    USERS: ("sourcedId", "givenName", "familyName"),
    ROLES: ("sourcedId", "userSourcedId", "role", "orgSourcedId"),
    ENROLLMENTS: ("sourcedId", "classSourcedId", "userSourcedId", "role"),
}
ORG_COLUMNS = {CLASSES: "schoolSourcedId", ENROLLMENTS: "schoolSourcedId", ROLES: "orgSourcedId"}
BULK_FILES = (ORGS, CLASSES, USERS, ENROLLMENTS)
"""Files a bulk export cannot do without. A delta needs only the files its manifest lists."""
ALIASES = {
    "grade": "grades",  # OneRoster 1.0
    "dataLastModified": "dateLastModified",
    "prefferedGivenName": "preferredGivenName",
    "prefferedMiddleName": "preferredMiddleName",
    "prefferedFamilyName": "preferredFamilyName",
}
VERSIONS = frozenset({"1.0", "1.1", "1.2"})

STAFF_ROLES: dict[str, StaffRole] = {
    "teacher": StaffRole.teacher,
    "aide": StaffRole.teaching_assistant,
    "principal": StaffRole.leader,
    "administrator": StaffRole.school_admin,
    "siteAdministrator": StaffRole.school_admin,
    "counselor": StaffRole.office,
    "proctor": StaffRole.office,
}
GUARDIAN_ROLES = frozenset({"parent", "guardian", "relative"})
OTHER_ROLES = frozenset(
    {"student", *GUARDIAN_ROLES, "districtAdministrator", "systemAdministrator", "externalUser"}
)
ROLES_BY_FOLDED = {r.casefold(): r for r in (*STAFF_ROLES, *OTHER_ROLES)}
ENROLLMENT_ROLES = frozenset(
    {"student", "teacher", "aide", "administrator", "proctor", "guardian", "parent", "relative"}
)
TERM_TYPES = frozenset({"term", "semester"})
CLASS_SIZE = 30
"""More pupils in no class than in one may be a small file's gaps; more than a class's worth
too, and the file is not this school's roster (or not all of it) at all."""
SCHOOL_TYPES = ("school", "department")
"""Org types that can be the school, in order: a department only when there is no school."""

GRADE_NAMES: dict[str, dict[str, str]] = {
    "uk": {"KG": "Reception", "PK": "Nursery", "PR": "Preschool", "IT": "Infants"},
    "us": {
        "KG": "Kindergarten",
        "PK": "Pre-K",
        "PR": "Preschool",
        "IT": "Infant/toddler",
        "TK": "Transitional Kindergarten",
        "PS": "Preschool",
        "UG": "Ungraded",
    },
}
NUMBERED = {"uk": "Year {}", "us": "Grade {}"}


def grade_code(text: str) -> str:
    """A grade code as the year group's source id spells it: "5" and "05" are one grade."""
    code = text.strip()
    return code.zfill(2) if code.isdigit() else code.upper()


def year_group_for(code: str, grade_names: str = "uk") -> YearGroup:
    """The year group a OneRoster grade code stands for, named the way the school chose."""
    written, code = code.strip(), grade_code(code)
    name = GRADE_NAMES[grade_names].get(code)
    if name is None:
        name = NUMBERED[grade_names].format(int(code)) if code.isdigit() else written
    return YearGroup(f"grade-{code}", name)


# -- the zip ---------------------------------------------------------------------------------


def _members(archive: zipfile.ZipFile) -> tuple[dict[str, zipfile.ZipInfo], list[RowError]]:
    """The zip's OneRoster files by name, wherever they are in its folders."""
    members: dict[str, zipfile.ZipInfo] = {}
    errors: list[RowError] = []
    for info in archive.infolist():
        base = info.filename.rsplit("/", 1)[-1]
        if base in REQUIRED_COLUMNS and not info.is_dir():
            if base in members:
                errors.append(RowError(base, 1, "is in the zip twice"))
            members[base] = info
    if sum(i.file_size for i in members.values()) > MAX_UNPACKED_BYTES:
        errors.append(RowError("upload", 1, "unpacks to more than a roster can be"))
    if not members and not errors:
        errors.append(RowError("upload", 1, "has none of the OneRoster files (orgs.csv, ...)"))
    return members, errors


def _archive(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ImportRejected([RowError("upload", 1, "is not a zip file")]) from exc


def check_zip(data: bytes) -> None:
    """Refuses a zip that cannot be a roster from its directory alone, unpacking nothing."""
    with _archive(data) as archive:
        _, errors = _members(archive)
    if errors:
        raise ImportRejected(errors)


def open_zip(data: bytes) -> dict[str, Table]:
    """The OneRoster files of a zip, each read into a table. A file whose header cannot be
    read comes back unusable, carrying its problems, so that the other files are still read
    and every problem is reported at once."""
    with _archive(data) as archive:
        members, errors = _members(archive)
        if errors:
            raise ImportRejected(errors)
        tables: dict[str, Table] = {}
        for name, info in members.items():
            problems: list[RowError] = []
            try:
                tables[name] = read_table(
                    name,
                    archive.read(info),
                    REQUIRED_COLUMNS[name],
                    aliases=ALIASES,
                    lenient=True,
                )
                continue
            except ImportRejected as exc:
                problems = exc.errors
            except (zipfile.BadZipFile, zlib.error, OSError, RuntimeError, EOFError) as exc:
                problems = [RowError(name, 1, f"cannot be unpacked: {exc}")]
            tables[name] = Table(name, (), (), tuple(problems), usable=False)
    return tables


# -- reading ---------------------------------------------------------------------------------

LIVE, DELETED, INACTIVE = "live", "deleted", "inactive"


def _status(row: Row) -> str:
    status = row["status"].casefold()
    if status == "tobedeleted":
        return DELETED
    return INACTIVE if status == "inactive" else LIVE


def _codes(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def _day(text: str) -> date:
    """An ISO date, or the US month/day/year some systems write."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        return datetime.strptime(text, "%m/%d/%Y").date()


@dataclass
class _User:
    row: Row
    roles: list[tuple[bool, str]] = field(default_factory=list)
    """(is it the primary role, role) for each of the user's roles in this school."""
    orgs: set[str] = field(default_factory=set)
    """Every org a row names for the user."""
    unknown_org: RowError | None = None
    """Where the user is first tied to an org that is not in orgs.csv."""
    in_our_class: bool = False


@dataclass
class _Class:
    row: Row
    title: str
    group: YearGroup | None
    """None for a class left out (its warning or error already given)."""


class Reading:
    """One pass over every file of an export: a snapshot, or every problem at once."""

    def __init__(
        self,
        tables: dict[str, Table],
        *,
        school_source_id: str | None,
        org: str | None,
        grade_names: str,
        counter: _Counter,
    ) -> None:
        self.tables = {n: t for n, t in tables.items() if t.usable}
        self.broken = {n for n, t in tables.items() if not t.usable}
        self.recorded, self.org, self.grade_names = school_source_id, org, grade_names
        self.counter = counter
        self.errors: list[RowError] = [e for t in tables.values() for e in t.malformed]
        self.warnings: list[RowError] = []
        self.skipped: Counter[str] = Counter()
        self.delta = False
        self.orgs: dict[str, Row] = {}
        """Every org of the file, live or not: a row naming one of them is not lost."""
        self.school: Row | None = None
        self.gone: dict[str, dict[str, tuple[str, Row]]] = {}
        """Per file, the sourcedIds of its deleted and inactive rows."""
        self.unsure: set[str] = set()
        """Users whose enrollments were already reported (or were in a class left out)."""
        self.listed: set[str] = set()
        """The files a manifest lists as bulk or delta (folded case)."""
        self.kept: set[str] = set()
        """The classes that import."""
        self.other_classes: set[str] = set()
        """Classes of other schools: their enrollments are counted with them."""
        self.lost_classes: set[str] = set()
        """Classes of orgs orgs.csv lacks: warned once, their enrollments not echoed."""
        self.homerooms = False

    # -- rows ---------------------------------------------------------------------------

    def _rows(self, name: str) -> Iterator[Row]:
        """Live rows of a file, with gone rows counted and duplicate sourcedIds reported."""
        table = self.tables.get(name)
        if table is None:
            return
        gone = self.gone.setdefault(name, {})
        first: dict[str, int] = {}
        for row in table.rows:
            self.counter.tick()
            sourced = row["sourcedId"]
            status = _status(row)
            if status != LIVE:
                gone[sourced] = (status, row)
                if name != USERS:  # users are counted with their school, below
                    self.skipped[
                        self._why_gone(status, row.values.get(ORG_COLUMNS.get(name, "")))
                    ] += 1
                continue
            if not sourced:
                self.errors.append(table.error(row, "sourcedId is empty"))
                continue
            if sourced in first:
                self.errors.append(
                    table.error(row, f"sourcedId {sourced} is on line {first[sourced]} too")
                )
                continue
            first[sourced] = row.line
            yield row

    def _why_gone(self, status: str, org: str | None) -> str:
        """A gone row of another school is counted with that school's rows."""
        return "other_schools" if org and self._ours(org.strip()) is False else status

    def _warn(self, table: Table, row: Row, reason: str) -> None:
        self.warnings.append(table.error(row, reason))

    # -- the pass -----------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        self._manifest()
        self._missing_files()
        self._school()
        terms = self._terms()
        classes, year_groups = self._classes()
        users = self._users()
        self._roles(users)
        pupil_class, staff_classes = self._enrollments(classes, users)
        self._membership(users)
        pupils, unplaced = self._pupils(users, classes, pupil_class, year_groups)
        staff = self._staff(users, staff_classes)
        removed_pupils, removed_staff = self._removed_users()
        if not self.delta:
            self._meaningful(classes, pupils, staff, unplaced)
        if self.errors:
            raise ImportRejected(self.errors)
        school = self.school
        return Snapshot(
            source=ONEROSTER,
            year_groups=year_groups,
            classes={
                k: SchoolClass(k, c.title, c.group.year_group_id)
                for k, c in classes.items()
                if c.group is not None and k in self.kept
            },
            pupils=pupils,
            staff=staff,
            school_name=" ".join(school["name"].split()) if school is not None else None,
            terms=terms,
            warnings=tuple(
                RowWarning(w.file, w.line, w.reason) for w in sorted(set(self.warnings))
            ),
            skipped=dict(sorted(self.skipped.items())),
            school_source_id=None if school is None else school["sourcedId"],
            delta=self.delta,
            removed_pupils=removed_pupils,
            removed_staff=removed_staff,
            removed_classes=self._removed_classes(),
        )

    def _manifest(self) -> None:
        """The version, and whether any file is a delta. No manifest reads as bulk 1.1."""
        table = self.tables.get(MANIFEST)
        if table is None:
            return
        seen: dict[str, Row] = {}
        for row in table.rows:
            self.counter.tick()
            seen[row["propertyName"]] = row
            if row["propertyName"].startswith("file.") and row["value"].casefold() == "delta":
                self.delta = True
        version = seen.get("oneroster.version")
        if version is None:
            self.errors.append(table.error(None, "has no oneroster.version"))
        elif version["value"] not in VERSIONS:
            self.errors.append(
                table.error(
                    version, f"oneroster.version {version['value']!r} is not 1.2, 1.1 or 1.0"
                )
            )
        self.listed = {
            f"{name.removeprefix('file.')}.csv".casefold()
            for name, row in seen.items()
            if name.startswith("file.") and row["value"].casefold() in {"bulk", "delta"}
        }

    def _missing_files(self) -> None:
        needed = (
            [n for n in REQUIRED_COLUMNS if n.casefold() in self.listed]
            if self.delta
            else list(BULK_FILES)
        )
        for name in needed:
            if name not in self.tables and name not in self.broken:
                self.errors.append(RowError(name, 1, "is missing from the zip"))

    def _school(self) -> None:
        table = self.tables.get(ORGS)
        if table is None:
            return
        for row in self._rows(ORGS):
            self.orgs[row["sourcedId"]] = row
        for sourced, (_, row) in self.gone.get(ORGS, {}).items():
            self.orgs.setdefault(sourced, row)
        live = [r for r in self.orgs.values() if _status(r) == LIVE]
        candidates: list[Row] = []
        for kind in SCHOOL_TYPES:
            candidates = [r for r in live if r["type"].casefold() == kind]
            if candidates:
                break
        listed = [{"source_id": r["sourcedId"], "name": r["name"]} for r in candidates]
        wanted = self.recorded or self.org
        if self.recorded and self.org and self.org != self.recorded:
            raise WrongSchool(
                f"this school is {self.recorded} in its own system, not {self.org}",
                listed,
            )
        if wanted is not None:
            ours = [
                r for r in live if r["sourcedId"] == wanted and r["type"].casefold() in SCHOOL_TYPES
            ]
            if not ours:
                named = ", ".join(f"{r['name']} ({r['sourcedId']})" for r in candidates)
                raise WrongSchool(
                    f"the file has no school {wanted}: it lists {named or 'none'}", listed
                )
            self.school = ours[0]
        elif len(candidates) == 1:
            self.school = candidates[0]
        elif candidates:
            raise ChooseSchool(listed)
        else:
            self.errors.append(table.error(None, "has no org of type school"))
            return
        _name(table, self.school, "name", self.errors)

    @property
    def school_id(self) -> str | None:
        return None if self.school is None else self.school["sourcedId"]

    def _ours(self, org: str) -> bool | None:
        """Whether an org reference is this school: None for an org orgs.csv lacks."""
        if self.school is None:
            return True  # orgs.csv is unreadable, and already reported
        if org == self.school_id:
            return True
        return False if org in self.orgs else None

    def _terms(self) -> tuple[Term, ...] | None:
        table = self.tables.get(SESSIONS)
        if table is None:
            return None
        terms: list[Term] = []
        for row in self._rows(SESSIONS):
            if row["type"].casefold() not in TERM_TYPES:
                continue
            try:
                starts, ends = _day(row["startDate"]), _day(row["endDate"])
            except ValueError:
                self._warn(
                    table,
                    row,
                    f"startDate {row['startDate']!r} or endDate {row['endDate']!r} is not a"
                    " date (YYYY-MM-DD or M/D/YYYY): the term is left out",
                )
                continue
            if ends < starts:
                self.errors.append(table.error(row, "endDate is before startDate"))
                continue
            title = _name(table, row, "title", self.errors)
            terms.append(Term(name=title, starts=starts, ends=ends))
        return tuple(sorted(terms, key=lambda t: (t.starts, t.name)))

    def _classes(self) -> tuple[dict[str, _Class], dict[str, YearGroup]]:
        """This school's classes (homerooms, else all), each with its year group or None."""
        table = self.tables.get(CLASSES)
        if table is None:
            return {}, {}
        ours: list[Row] = []
        for row in self._rows(CLASSES):
            match self._ours(row["schoolSourcedId"]):
                case True:
                    ours.append(row)
                case False:
                    self.skipped["other_schools"] += 1
                    self.other_classes.add(row["sourcedId"])
                case None:
                    self._warn(
                        table,
                        row,
                        f"schoolSourcedId {row['schoolSourcedId']} is not in orgs.csv:"
                        " the class is left out",
                    )
                    self.lost_classes.add(row["sourcedId"])
        homerooms = [r for r in ours if r["classType"].casefold() == "homeroom"]
        self.homerooms = bool(homerooms)
        classes: dict[str, _Class] = {}
        year_groups: dict[str, YearGroup] = {}
        for row in ours:
            if homerooms and row["classType"].casefold() != "homeroom":
                classes[row["sourcedId"]] = _Class(row, row["title"], None)
                self.skipped["lessons"] += 1  # a lesson beside the homerooms
                continue
            before = len(self.errors)
            class_id = _id(table, row, "sourcedId", self.errors)
            title = _name(table, row, "title", self.errors)
            grades = _codes(row["grades"])
            group: YearGroup | None = None
            if not grades:
                self._warn(
                    table,
                    row,
                    "grades is empty: the class, and pupils enrolled only in it, are left out",
                )
            elif not is_id(f"grade-{grade_code(grades[0])}"):
                self.errors.append(table.error(row, f"grades {grades[0]!r} is not a grade code"))
            elif len(self.errors) == before:
                group = year_group_for(grades[0], self.grade_names)
                year_groups[group.year_group_id] = group
                self.kept.add(class_id)
            classes[row["sourcedId"]] = _Class(row, title, group)
        return classes, year_groups

    def _users(self) -> dict[str, _User]:
        users: dict[str, _User] = {}
        for row in self._rows(USERS):
            user = users[row["sourcedId"]] = _User(row)
            user.orgs.update(_codes(row["orgSourcedIds"]), _codes(row["primaryOrgSourcedId"]))
        return users

    def _role_of(self, table: Table, row: Row) -> str | None:
        role = ROLES_BY_FOLDED.get(row["role"].casefold())
        if role is None:
            self.errors.append(table.error(row, f"role {row['role']!r} is not a OneRoster role"))
        return role

    def _roles(self, users: dict[str, _User]) -> None:
        """Roles in this school: from roles.csv, else from users.csv's role column."""
        roles = self.tables.get(ROLES)
        if roles is not None:
            for row in self._rows(ROLES):
                role = self._role_of(roles, row)
                if role is None:
                    continue
                user_ref, org = row["userSourcedId"], row["orgSourcedId"]
                user = users.get(user_ref)
                if user is None:
                    if user_ref in self.gone.get(USERS, {}):
                        self.skipped[self.gone[USERS][user_ref][0]] += 1
                    elif USERS in self.tables:
                        self.errors.append(
                            roles.error(row, f"userSourcedId {user_ref} is not in users.csv")
                        )
                    continue
                user.orgs.add(org)
                match self._ours(org):
                    case True:
                        user.roles.append((row["roleType"].casefold() == "primary", role))
                    case None if user.unknown_org is None:
                        user.unknown_org = roles.error(
                            row, f"orgSourcedId {org} is not in orgs.csv"
                        )
                    case _:
                        pass
            return
        table = self.tables.get(USERS)
        if table is None or "role" not in table.columns:
            return  # roles come from enrollments alone
        for user in users.values():
            role = self._role_of(table, user.row)
            if role is not None:
                user.roles.append((True, role))

    def _enrollments(
        self, classes: dict[str, _Class], users: dict[str, _User]
    ) -> tuple[dict[str, tuple[str, Row]], dict[str, set[str]]]:
        table = self.tables.get(ENROLLMENTS)
        pupil_class: dict[str, tuple[str, Row]] = {}
        staff_classes: dict[str, set[str]] = {}
        if table is None:
            return pupil_class, staff_classes
        gone_classes = self.gone.get(CLASSES, {})
        gone_users = self.gone.get(USERS, {})
        for row in self._rows(ENROLLMENTS):
            class_ref, user_ref = row["classSourcedId"], row["userSourcedId"]
            role = row["role"].casefold()
            if role not in ENROLLMENT_ROLES:
                self.errors.append(
                    table.error(row, f"role {row['role']!r} is not an enrollment role")
                )
                self.unsure.add(user_ref)
                continue
            if class_ref in gone_classes:  # the class is gone, and so is this
                status, klass_row = gone_classes[class_ref]
                self.skipped[self._why_gone(status, klass_row["schoolSourcedId"])] += 1
                continue
            if class_ref in self.other_classes:
                self.skipped["other_schools"] += 1
                continue
            if class_ref in self.lost_classes:
                continue
            klass = classes.get(class_ref)
            if klass is None and not self.delta:
                if CLASSES in self.tables:
                    self.errors.append(
                        table.error(row, f"classSourcedId {class_ref} is not in classes.csv")
                    )
                self.unsure.add(user_ref)
                continue
            if user_ref in gone_users:
                self.skipped[gone_users[user_ref][0]] += 1
                continue
            user = users.get(user_ref)
            if user is None:
                if self.delta:
                    self._warn(
                        table,
                        row,
                        f"userSourcedId {user_ref} is not in this delta's users.csv:"
                        " their class is not changed",
                    )
                elif USERS in self.tables:
                    self.errors.append(
                        table.error(row, f"userSourcedId {user_ref} is not in users.csv")
                    )
                continue
            user.in_our_class = True
            if klass is not None and klass.group is None:
                if klass.row["classType"].casefold() == "homeroom" or not self.homerooms:
                    self.unsure.add(user_ref)  # its class was left out, with a warning
                continue  # or a lesson beside the homerooms
            if not user.roles:
                user.roles.append((False, role))  # no role given elsewhere
            if role == "student":
                if user_ref in pupil_class:
                    other, first = pupil_class[user_ref]
                    if other == class_ref:
                        continue  # the same enrollment twice says nothing new
                    if self.homerooms:
                        self.errors.append(
                            table.error(
                                row,
                                f"pupil {user_ref} is already in class {other}"
                                f" (line {first.line}): a pupil belongs to one class",
                            )
                        )
                    else:
                        self._warn(
                            table,
                            row,
                            f"pupil {user_ref} is also in class {class_ref}: they are placed"
                            f" in their first, {other} (line {first.line})",
                        )
                    continue
                pupil_class[user_ref] = (class_ref, row)
            elif role in {"teacher", "aide"}:
                staff_classes.setdefault(user_ref, set()).add(class_ref)
        return pupil_class, staff_classes

    def _membership(self, users: dict[str, _User]) -> None:
        """Leaves out the users of other schools (counted) and of unknown orgs (warned)."""
        table = self.tables.get(USERS)
        for user_ref, user in list(users.items()):
            known = {o: self._ours(o) for o in user.orgs if o}
            if user.in_our_class or True in known.values() or not known:
                continue
            del users[user_ref]
            unknown = sorted(o for o, ours in known.items() if ours is None)
            if not unknown:
                self.skipped["other_schools"] += 1
            elif user.unknown_org is not None and not (
                user.row["orgSourcedIds"] or user.row["primaryOrgSourcedId"]
            ):
                self.warnings.append(user.unknown_org)  # only roles.csv names its org
            elif table is not None:
                self._warn(
                    table,
                    user.row,
                    f"org {', '.join(unknown)} is not in orgs.csv: the user is left out",
                )

    @staticmethod
    def _role(user: _User) -> str | None:
        """The user's primary role in this school, else the first one named."""
        if not user.roles:
            return None
        return sorted(user.roles, key=lambda r: not r[0])[0][1]

    def _pupils(
        self,
        users: dict[str, _User],
        classes: dict[str, _Class],
        pupil_class: dict[str, tuple[str, Row]],
        year_groups: dict[str, YearGroup],
    ) -> tuple[dict[str, Pupil], int]:
        """The pupils, and how many were left out for being in no class."""
        table = self.tables.get(USERS)
        pupils: dict[str, Pupil] = {}
        unplaced = 0
        if table is None:
            return pupils, unplaced
        for user_ref, user in users.items():
            role = self._role(user)
            if role != "student":
                if role is None:
                    self.skipped["no_role"] += 1
                elif role in GUARDIAN_ROLES:
                    self.skipped["guardians"] += 1
                elif role not in STAFF_ROLES:
                    self.skipped["other_roles"] += 1
                continue
            row = user.row
            placed = pupil_class.get(user_ref)
            if placed is None and (not self.delta or user_ref in self.unsure):
                if user_ref not in self.unsure:
                    unplaced += 1
                    self._warn(
                        table,
                        row,
                        f"pupil {user_ref} is not enrolled in any class of the school:"
                        " they are left out",
                    )
                continue
            before = len(self.errors)
            pupil_id = _id(table, row, "sourcedId", self.errors)
            first = self._preferred(table, row, "givenName", "preferredGivenName")
            surname = self._preferred(table, row, "familyName", "preferredFamilyName")
            class_id = "" if placed is None else placed[0]
            klass = classes.get(class_id)
            year_group_id = (
                "" if klass is None or klass.group is None else klass.group.year_group_id
            )

            own_grades = _codes(row["grades"])
            if own_grades and class_id:
                if not is_id(f"grade-{grade_code(own_grades[0])}"):
                    self.errors.append(
                        table.error(row, f"grades {own_grades[0]!r} is not a grade code")
                    )
                else:
                    group = year_group_for(own_grades[0], self.grade_names)
                    year_groups.setdefault(group.year_group_id, group)
                    year_group_id = group.year_group_id
            if len(self.errors) > before:
                continue
            pupils[pupil_id] = Pupil(pupil_id, first, surname, year_group_id, class_id)
        return pupils, unplaced

    def _preferred(self, table: Table, row: Row, column: str, preferred: str) -> str:
        if row[preferred]:
            return _name(table, row, preferred, self.errors)
        return _name(table, row, column, self.errors)

    def _staff(
        self, users: dict[str, _User], staff_classes: dict[str, set[str]]
    ) -> dict[str, StaffMember]:
        table = self.tables.get(USERS)
        staff: dict[str, StaffMember] = {}
        if table is None:
            return staff
        for user_ref, user in users.items():
            role = self._role(user)
            if role is None or role not in STAFF_ROLES:
                continue
            row = user.row
            before = len(self.errors)
            staff_id = _id(table, row, "sourcedId", self.errors)
            first = self._preferred(table, row, "givenName", "preferredGivenName")
            surname = self._preferred(table, row, "familyName", "preferredFamilyName")
            if len(self.errors) > before:
                continue
            staff[staff_id] = StaffMember(
                staff_id,
                f"{first} {surname}",
                row["email"],
                STAFF_ROLES[role],
                frozenset(
                    c for c in staff_classes.get(user_ref, ()) if c in self.kept or self.delta
                ),
            )
        return staff

    def _removed_users(self) -> tuple[frozenset[str], frozenset[str]]:
        """In a delta, the deleted users of this school, as pupils or staff by their role."""
        pupils: set[str] = set()
        staff: set[str] = set()
        roles_by_user: dict[str, set[str]] = {}
        for row in self.tables[ROLES].rows if ROLES in self.tables else ():
            if self._ours(row["orgSourcedId"]):
                role = ROLES_BY_FOLDED.get(row["role"].casefold())
                if role is not None:
                    roles_by_user.setdefault(row["userSourcedId"], set()).add(role)
        for sourced, (status, row) in self.gone.get(USERS, {}).items():
            orgs = {*_codes(row["orgSourcedIds"]), *_codes(row["primaryOrgSourcedId"])}
            known = {self._ours(o) for o in orgs}
            if orgs and True not in known and False in known and sourced not in roles_by_user:
                self.skipped["other_schools"] += 1
                continue
            self.skipped[status] += 1
            if not self.delta or status != DELETED:
                continue
            roles = roles_by_user.get(sourced, set())
            if row["role"].casefold() in ROLES_BY_FOLDED:
                roles.add(ROLES_BY_FOLDED[row["role"].casefold()])
            if "student" in roles:
                pupils.add(sourced)
            if roles & set(STAFF_ROLES):
                staff.add(sourced)
            if not roles:  # a deleted row need not say who it was: it leaves either way
                pupils.add(sourced)
                staff.add(sourced)
        return frozenset(pupils), frozenset(staff)

    def _removed_classes(self) -> frozenset[str]:
        if not self.delta:
            return frozenset()
        return frozenset(
            sourced
            for sourced, (status, row) in self.gone.get(CLASSES, {}).items()
            if status == DELETED and self._ours(row["schoolSourcedId"])
        )

    def _meaningful(
        self,
        classes: dict[str, _Class],
        pupils: dict[str, Pupil],
        staff: dict[str, StaffMember],
        unplaced: int,
    ) -> None:
        """A bulk file that leaves out too much is an error, with its warnings as the why."""
        if self.errors:
            return
        reasons: list[RowError] = []
        if not self.kept:
            reasons.append(RowError(CLASSES, 1, "has no class of the school that can be read"))
        if not pupils and not staff:
            reasons.append(
                RowError(USERS, 1, "has no pupil or member of staff of the school that can be read")
            )
        elif unplaced > max(len(pupils), CLASS_SIZE):
            reasons.append(
                RowError(
                    USERS,
                    1,
                    f"has {unplaced} pupils in no class of the school and only {len(pupils)}"
                    " in one: this is not the school's roster",
                )
            )
        if reasons:
            self.errors += [*reasons, *self.warnings]
