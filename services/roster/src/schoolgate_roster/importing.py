"""Reading a school's roster files into a ``Snapshot``, or into a list of what is wrong.

Two kinds of upload are understood: a OneRoster 1.2 CSV zip (1.1 files read too) and a
simple one-row-per-pupil CSV. Reading is pure: bytes in, a snapshot or errors out. Every
error names its file, line and reason, and a file with any error imports nothing.

OneRoster is read the way a primary school is shaped:

- the school is the one ``orgs.csv`` row of type ``school`` (or, in a district file, the one
  whose sourcedId is the school's id); rows of other schools are passed over;
- its classes are its ``homeroom`` classes; a file without any takes its scheduled classes;
- a class's year group is its first ``grades`` code ("03" is "Year 3", "KG" "Reception");
- a pupil is a user with the ``student`` role enrolled in exactly one of those classes;
- staff are users with a staff role (teacher, aide, principal, administrator, ...), assigned
  to the classes they are enrolled in as teacher or aide;
- roles come from ``roles.csv`` (1.2); without it, from the ``role`` column of ``users.csv``
  (1.1) or from the users' enrollments;
- ``academicSessions.csv`` rows of type term (or semester) become the school's terms;
- rows whose status is ``tobedeleted`` are gone.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from schoolgate_contracts.roster import StaffRole, Term
from schoolgate_kit.problems import Problem, Unprocessable

from schoolgate_roster.domain import Pupil, SchoolClass, Snapshot, StaffMember, YearGroup, is_id

Progress = Callable[[int, int], None]

MAX_UNPACKED_BYTES = 200 * 1024 * 1024
"""A zip may not unpack to more than this: a school's roster is a few megabytes."""
MAX_NAME = 100

ONEROSTER = "oneroster"
SIMPLE_CSV = "csv"
ZIP_TYPES = frozenset({"application/zip", "application/x-zip-compressed"})
CSV_TYPES = frozenset({"text/csv", "application/csv"})


@dataclass(frozen=True, order=True)
class RowError:
    file: str
    line: int
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "reason": self.reason}


MAX_ERRORS_SHOWN = 200


class ImportRejected(Unprocessable):
    slug = "roster-import-invalid"
    title = "The roster file has errors, so nothing was imported"

    def __init__(self, errors: Iterable[RowError]) -> None:
        listed = sorted(set(errors))
        # a broken file of 100,000 rows has 100,000 problems: the job keeps, and the page
        # shows, the first ones and how many more there are, never all of them
        shown = listed[:MAX_ERRORS_SHOWN]
        super().__init__(
            f"{len(listed)} problem(s) in the file; fix them and upload it again",
            errors=[e.as_json() for e in shown],
            errors_not_shown=len(listed) - len(shown),
        )
        self.errors = listed


class UnsupportedUpload(Problem):
    status, slug, title = 415, "unsupported-media-type", "Upload a zip or a CSV file"


# -- tables ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "").strip()


@dataclass(frozen=True)
class Table:
    file: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    malformed: tuple[RowError, ...] = ()
    """Rows that do not fit the header: reported with the rest when the rows are read."""

    def error(self, row: Row | None, reason: str) -> RowError:
        return RowError(self.file, 1 if row is None else row.line, reason)


def read_table(file: str, data: bytes, required: Iterable[str]) -> Table:
    """A CSV file as rows keyed by its header, each with the line it starts on."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRejected([RowError(file, line, "is not UTF-8 text")]) from exc
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[Row] = []
    errors: list[RowError] = []
    malformed: list[RowError] = []
    columns: tuple[str, ...] | None = None
    ended = 0  # the line the previous record ended on
    try:
        for record in reader:
            start, ended = ended + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if columns is None:
                columns = tuple(cell.strip() for cell in record)
                continue
            if len(record) != len(columns):
                malformed.append(
                    RowError(
                        file,
                        start,
                        f"has {len(record)} fields but the header has {len(columns)}",
                    )
                )
                continue
            rows.append(Row(start, dict(zip(columns, record, strict=True))))
    except csv.Error as exc:
        errors.append(RowError(file, reader.line_num, f"is not valid CSV: {exc}"))
    if columns is None:
        raise ImportRejected([*errors, RowError(file, 1, "is empty: it needs a header row")])
    missing = [c for c in required if c not in columns]
    if missing:
        errors.append(RowError(file, 1, f"has no column {', '.join(missing)}"))
    if errors:
        raise ImportRejected(errors)
    return Table(file, columns, tuple(rows), tuple(malformed))


def check_upload(content_type: str, data: bytes) -> str:
    """The kind of upload, or an error for one that cannot be a roster at all: the type, and
    for a zip the names and sizes in its directory. Reads no row and unpacks nothing, so the
    upload request answers at once; the rows are read by the job, in a process of its own."""
    kind = content_type.split(";")[0].strip().lower()
    if kind in CSV_TYPES:
        return SIMPLE_CSV
    if kind not in ZIP_TYPES:
        raise UnsupportedUpload(
            f"send a OneRoster zip as application/zip or a pupil list as text/csv, not {kind!r}"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ImportRejected([RowError("upload", 1, "is not a zip file")]) from exc
    with archive:
        names = {i.filename.rsplit("/", 1)[-1]: i for i in archive.infolist() if not i.is_dir()}
    errors = [RowError(n, 1, "is missing from the zip") for n in REQUIRED_FILES if n not in names]
    wanted = [i for n, i in names.items() if n in REQUIRED_COLUMNS]
    if sum(i.file_size for i in wanted) > MAX_UNPACKED_BYTES:
        errors.append(RowError("upload", 1, "unpacks to more than a roster can be"))
    if errors:
        raise ImportRejected(errors)
    return ONEROSTER


def open_upload(content_type: str, data: bytes) -> tuple[str, dict[str, Table]]:
    """The kind of upload and its tables, or an error for a file that cannot be read at all.

    Cheap enough to answer while the upload request waits; reading rows is the job's work.
    """
    kind = content_type.split(";")[0].strip().lower()
    if kind in ZIP_TYPES:
        return ONEROSTER, open_oneroster(data)
    if kind in CSV_TYPES:
        return SIMPLE_CSV, {SIMPLE_FILE: read_table(SIMPLE_FILE, data, SIMPLE_COLUMNS)}
    raise UnsupportedUpload(
        f"send a OneRoster zip as application/zip or a pupil list as text/csv, not {kind!r}"
    )


def count_rows(tables: dict[str, Table]) -> int:
    return sum(len(t.rows) + len(t.malformed) for t in tables.values())


def read_snapshot(
    kind: str,
    tables: dict[str, Table],
    *,
    school_id: str,
    school_source_id: str | None = None,
    org: str | None = None,
    progress: Progress | None = None,
) -> Snapshot:
    counter = _Counter(count_rows(tables), progress)
    counter.done = sum(len(t.malformed) for t in tables.values())  # read, and already judged
    if kind == ONEROSTER:
        return _OneRoster(tables, school_id, counter).snapshot()
    return simple_snapshot(tables[SIMPLE_FILE], counter)


class _Counter:
    """Reports rows read, about every hundred rows and once at the end."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.done, self._progress = total, 0, progress

    def tick(self) -> None:
        self.done += 1
        if self._progress is not None and (self.done % 100 == 0 or self.done == self.total):
            self._progress(self.done, self.total)


def _name(table: Table, row: Row, column: str, errors: list[RowError]) -> str:
    value = " ".join(row[column].split())
    if not value:
        errors.append(table.error(row, f"{column} is empty"))
    elif len(value) > MAX_NAME:
        errors.append(table.error(row, f"{column} is longer than {MAX_NAME} characters"))
    return value


def _id(table: Table, row: Row, column: str, errors: list[RowError]) -> str:
    value = row[column]
    if not is_id(value):
        errors.append(
            table.error(
                row,
                f"{column} {value!r} is not a Schoolgate id (1 to 64 letters, digits, '-' or '_')",
            )
        )
    return value


# -- the simple CSV --------------------------------------------------------------------------

SIMPLE_FILE = "pupils.csv"
SIMPLE_COLUMNS = ("pupil_id", "first_name", "surname", "year_group", "class")


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")[:64].strip("-")


def simple_snapshot(table: Table, counter: _Counter | None = None) -> Snapshot:
    """One row per pupil: pupil_id, first_name, surname, year_group, class (names)."""
    counter = counter or _Counter(len(table.rows), None)
    errors: list[RowError] = list(table.malformed)
    year_groups: dict[str, YearGroup] = {}
    classes: dict[str, SchoolClass] = {}
    class_lines: dict[str, int] = {}
    pupils: dict[str, Pupil] = {}
    pupil_lines: dict[str, int] = {}
    for row in table.rows:
        counter.tick()
        before = len(errors)
        pupil_id = _id(table, row, "pupil_id", errors)
        first = _name(table, row, "first_name", errors)
        surname = _name(table, row, "surname", errors)
        group_name = _name(table, row, "year_group", errors)
        class_name = _name(table, row, "class", errors)
        group_id, class_id = slug(group_name), slug(class_name)
        if group_name and not group_id:
            errors.append(table.error(row, f"year_group {group_name!r} has no letters or digits"))
        if class_name and not class_id:
            errors.append(table.error(row, f"class {class_name!r} has no letters or digits"))
        if pupil_id in pupil_lines:
            errors.append(
                table.error(row, f"pupil_id {pupil_id} is on line {pupil_lines[pupil_id]} too")
            )
        if len(errors) > before:
            continue
        year_groups.setdefault(group_id, YearGroup(group_id, group_name))
        klass = classes.setdefault(class_id, SchoolClass(class_id, class_name, group_id))
        class_lines.setdefault(class_id, row.line)
        if klass.year_group_id != group_id:
            other = year_groups[klass.year_group_id].name
            errors.append(
                table.error(
                    row,
                    f"class {class_name!r} is in year group {other!r} on line"
                    f" {class_lines[class_id]}: a class belongs to one year group",
                )
            )
            continue
        pupil_lines[pupil_id] = row.line
        pupils[pupil_id] = Pupil(pupil_id, first, surname, group_id, class_id)
    if errors:
        raise ImportRejected(errors)
    return Snapshot(
        source=SIMPLE_CSV,
        year_groups=year_groups,
        classes=classes,
        pupils=pupils,
        match_by_name=True,
    )


# -- OneRoster -------------------------------------------------------------------------------

MANIFEST = "manifest.csv"
ORGS = "orgs.csv"
SESSIONS = "academicSessions.csv"
CLASSES = "classes.csv"
USERS = "users.csv"
ROLES = "roles.csv"
ENROLLMENTS = "enrollments.csv"

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    MANIFEST: ("propertyName", "value"),
    ORGS: ("sourcedId", "status", "dateLastModified", "name", "type"),
    SESSIONS: ("sourcedId", "status", "dateLastModified", "title", "type", "startDate", "endDate"),
    CLASSES: (
        "sourcedId",
        "status",
        "dateLastModified",
        "title",
        "grades",
        "classType",
        "schoolSourcedId",
    ),
    USERS: ("sourcedId", "status", "dateLastModified", "givenName", "familyName"),
    ROLES: (
        "sourcedId",
        "status",
        "dateLastModified",
        "userSourcedId",
        "roleType",
        "role",
        "orgSourcedId",
    ),
    ENROLLMENTS: (
        "sourcedId",
        "status",
        "dateLastModified",
        "classSourcedId",
        "schoolSourcedId",
        "userSourcedId",
        "role",
    ),
}
REQUIRED_FILES = (MANIFEST, ORGS, CLASSES, USERS, ENROLLMENTS)
OPTIONAL_FILES = (SESSIONS, ROLES)

STAFF_ROLES: dict[str, StaffRole] = {
    "teacher": StaffRole.teacher,
    "aide": StaffRole.teaching_assistant,
    "principal": StaffRole.leader,
    "administrator": StaffRole.school_admin,
    "siteAdministrator": StaffRole.school_admin,
    "counselor": StaffRole.office,
    "proctor": StaffRole.office,
}
OTHER_ROLES = frozenset(
    {
        "student",
        "parent",
        "guardian",
        "relative",
        "districtAdministrator",
        "systemAdministrator",
        "externalUser",
    }
)
ENROLLMENT_ROLES = frozenset(
    {"student", "teacher", "aide", "administrator", "proctor", "guardian", "parent", "relative"}
)
GRADE_NAMES = {"KG": "Reception", "PK": "Nursery", "PR": "Preschool", "IT": "Infants"}
TERM_TYPES = frozenset({"term", "semester"})


def open_oneroster(data: bytes) -> dict[str, Table]:
    """The OneRoster files of a zip, each read into a table with its required columns."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ImportRejected([RowError("upload", 1, "is not a zip file")]) from exc
    with archive:
        members: dict[str, zipfile.ZipInfo] = {}
        for info in archive.infolist():
            base = info.filename.rsplit("/", 1)[-1]
            if base in REQUIRED_COLUMNS and not info.is_dir():
                if base in members:
                    raise ImportRejected([RowError(base, 1, "is in the zip twice")])
                members[base] = info
        errors = [
            RowError(name, 1, "is missing from the zip")
            for name in REQUIRED_FILES
            if name not in members
        ]
        if sum(i.file_size for i in members.values()) > MAX_UNPACKED_BYTES:
            errors.append(RowError("upload", 1, "unpacks to more than a roster can be"))
        if errors:
            raise ImportRejected(errors)
        tables: dict[str, Table] = {}
        for name, info in members.items():
            try:
                tables[name] = read_table(name, archive.read(info), REQUIRED_COLUMNS[name])
            except ImportRejected as exc:
                errors += exc.errors
            except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
                errors.append(RowError(name, 1, f"cannot be unpacked: {exc}"))
    if errors:
        raise ImportRejected(errors)
    _check_manifest(tables[MANIFEST])
    return tables


def _check_manifest(table: Table) -> None:
    errors: list[RowError] = []
    seen: dict[str, Row] = {}
    for row in table.rows:
        seen[row["propertyName"]] = row
        name, value = row["propertyName"], row["value"]
        if name.startswith("file.") and value == "delta":
            errors.append(
                table.error(row, f"{name} is a delta file: upload a full (bulk) export instead")
            )
    version = seen.get("oneroster.version")
    if version is None:
        errors.append(table.error(None, "has no oneroster.version"))
    elif version["value"] not in {"1.2", "1.1"}:
        errors.append(
            table.error(version, f"oneroster.version {version['value']!r} is not 1.2 (or 1.1)")
        )
    if errors:
        raise ImportRejected(errors)


def _live(row: Row) -> bool:
    return row["status"] != "tobedeleted"


def _codes(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def year_group_for(code: str) -> YearGroup:
    """The year group a OneRoster grade code stands for."""
    name = GRADE_NAMES.get(code)
    if name is None:
        name = f"Year {int(code)}" if code.isdigit() else code
    return YearGroup(f"grade-{code}", name)


@dataclass
class _User:
    row: Row
    roles: list[tuple[bool, str]] = field(default_factory=list)
    """(is it the primary role, role) for each of the user's roles in this school."""


class _OneRoster:
    def __init__(self, tables: dict[str, Table], school_id: str, counter: _Counter) -> None:
        self.tables = tables
        self.school_id = school_id
        self.counter = counter
        self.errors = [e for t in tables.values() for e in t.malformed]
        self.bad_classes: set[str] = set()
        self.unsure: set[str] = set()
        """Users whose enrollments had errors: already reported, so not reported again."""

    def _live_rows(self, name: str) -> Iterable[Row]:
        """Rows of a file that are not deleted, with duplicate sourcedIds reported."""
        table = self.tables.get(name)
        if table is None:
            return
        first: dict[str, int] = {}
        for row in table.rows:
            self.counter.tick()
            if name == MANIFEST or not _live(row):
                continue
            sourced = row["sourcedId"]
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

    def snapshot(self) -> Snapshot:
        list(self._live_rows(MANIFEST))  # counted; checked when the zip was opened
        school = self._school()
        terms = self._terms()
        classes, year_groups = self._classes(school)
        users = self._users()
        self._roles(school, users)
        pupil_class, staff_classes = self._enrollments(classes, users)
        pupils = self._pupils(users, classes, pupil_class, year_groups)
        staff = self._staff(users, staff_classes)
        if self.errors:
            raise ImportRejected(self.errors)
        assert school is not None
        return Snapshot(
            source=ONEROSTER,
            year_groups=year_groups,
            classes=classes,
            pupils=pupils,
            staff=staff,
            school_name=school["name"],
            terms=terms,
        )

    def _school(self) -> Row | None:
        table = self.tables[ORGS]
        schools = [r for r in self._live_rows(ORGS) if r["type"] == "school"]
        ours = [r for r in schools if len(schools) == 1 or r["sourcedId"] == self.school_id]
        if len(ours) == 1:
            _name(table, ours[0], "name", self.errors)
            return ours[0]
        reason = (
            "has no org of type school"
            if not schools
            else f"has {len(schools)} schools and none has sourcedId {self.school_id}"
        )
        self.errors.append(table.error(None, reason))
        return None

    def _terms(self) -> tuple[Term, ...] | None:
        table = self.tables.get(SESSIONS)
        if table is None:
            return None
        terms: list[Term] = []
        for row in self._live_rows(SESSIONS):
            if row["type"] not in TERM_TYPES:
                continue
            try:
                starts = date.fromisoformat(row["startDate"])
                ends = date.fromisoformat(row["endDate"])
            except ValueError:
                self.errors.append(table.error(row, "startDate and endDate must be YYYY-MM-DD"))
                continue
            if ends < starts:
                self.errors.append(table.error(row, "endDate is before startDate"))
                continue
            title = _name(table, row, "title", self.errors)
            terms.append(Term(name=title, starts=starts, ends=ends))
        return tuple(sorted(terms, key=lambda t: (t.starts, t.name)))

    def _classes(self, school: Row | None) -> tuple[dict[str, SchoolClass], dict[str, YearGroup]]:
        table = self.tables[CLASSES]
        ours = [
            r
            for r in self._live_rows(CLASSES)
            if school is None or r["schoolSourcedId"] == school["sourcedId"]
        ]
        homerooms = [r for r in ours if r["classType"] == "homeroom"]
        wanted = homerooms or ours
        classes: dict[str, SchoolClass] = {}
        year_groups: dict[str, YearGroup] = {}
        for row in wanted:
            before = len(self.errors)
            class_id = _id(table, row, "sourcedId", self.errors)
            title = _name(table, row, "title", self.errors)
            grades = _codes(row["grades"])
            if not grades:
                self.errors.append(table.error(row, "grades is empty: a class needs a year group"))
            elif not is_id(f"grade-{grades[0]}"):
                self.errors.append(table.error(row, f"grades {grades[0]!r} is not a grade code"))
            if len(self.errors) > before:
                self.bad_classes.add(row["sourcedId"])
                continue
            group = year_group_for(grades[0])
            year_groups[group.year_group_id] = group
            classes[class_id] = SchoolClass(class_id, title, group.year_group_id)
        return classes, year_groups

    def _users(self) -> dict[str, _User]:
        return {row["sourcedId"]: _User(row) for row in self._live_rows(USERS)}

    def _roles(self, school: Row | None, users: dict[str, _User]) -> None:
        """Roles in this school: from roles.csv, else from users.csv's role column."""
        school_id = None if school is None else school["sourcedId"]
        roles = self.tables.get(ROLES)
        if roles is not None:
            for row in self._live_rows(ROLES):
                role = row["role"]
                if not self._known_role(roles, row, role):
                    continue
                user = users.get(row["userSourcedId"])
                if user is None:
                    self.errors.append(
                        roles.error(
                            row, f"userSourcedId {row['userSourcedId']} is not in users.csv"
                        )
                    )
                    continue
                if row["orgSourcedId"] == school_id:
                    user.roles.append((row["roleType"] == "primary", role))
            return
        table = self.tables[USERS]
        if "role" not in table.columns:
            return  # roles come from enrollments alone
        for user in users.values():
            role = user.row["role"]
            if not self._known_role(table, user.row, role):
                continue
            orgs = set(_codes(user.row["orgSourcedIds"])) | {user.row["primaryOrgSourcedId"]}
            if school_id in orgs or not (orgs - {""}):
                user.roles.append((True, role))

    def _known_role(self, table: Table, row: Row, role: str) -> bool:
        if role in STAFF_ROLES or role in OTHER_ROLES:
            return True
        self.errors.append(table.error(row, f"role {role!r} is not a OneRoster role"))
        return False

    def _enrollments(
        self, classes: dict[str, SchoolClass], users: dict[str, _User]
    ) -> tuple[dict[str, tuple[str, Row]], dict[str, set[str]]]:
        table = self.tables[ENROLLMENTS]
        known_classes = {r["sourcedId"] for r in self.tables[CLASSES].rows if _live(r)}
        pupil_class: dict[str, tuple[str, Row]] = {}
        staff_classes: dict[str, set[str]] = {}
        for row in self._live_rows(ENROLLMENTS):
            class_ref, user_ref, role = row["classSourcedId"], row["userSourcedId"], row["role"]
            if role not in ENROLLMENT_ROLES:
                self.errors.append(table.error(row, f"role {role!r} is not an enrollment role"))
                self.unsure.add(user_ref)
                continue
            if class_ref not in known_classes:
                self.errors.append(
                    table.error(row, f"classSourcedId {class_ref} is not in classes.csv")
                )
                self.unsure.add(user_ref)
                continue
            if class_ref in self.bad_classes:
                self.unsure.add(user_ref)
                continue
            if user_ref not in users:
                self.errors.append(
                    table.error(row, f"userSourcedId {user_ref} is not in users.csv")
                )
                continue
            if class_ref not in classes:
                continue  # another school's class, or a lesson beside the homerooms
            user = users[user_ref]
            if not user.roles:
                user.roles.append((False, role))  # no role given elsewhere
            if role == "student":
                if user_ref in pupil_class:
                    other, first = pupil_class[user_ref]
                    self.errors.append(
                        table.error(
                            row,
                            f"pupil {user_ref} is already in class {other} (line {first.line}):"
                            " a pupil belongs to one class",
                        )
                    )
                    continue
                pupil_class[user_ref] = (class_ref, row)
            elif role in {"teacher", "aide"}:
                staff_classes.setdefault(user_ref, set()).add(class_ref)
        return pupil_class, staff_classes

    @staticmethod
    def _role(user: _User) -> str | None:
        """The user's primary role in this school, else the first one named."""
        if not user.roles:
            return None
        return sorted(user.roles, key=lambda r: not r[0])[0][1]

    def _pupils(
        self,
        users: dict[str, _User],
        classes: dict[str, SchoolClass],
        pupil_class: dict[str, tuple[str, Row]],
        year_groups: dict[str, YearGroup],
    ) -> dict[str, Pupil]:
        table = self.tables[USERS]
        pupils: dict[str, Pupil] = {}
        for user_ref, user in users.items():
            if self._role(user) != "student":
                continue
            row = user.row
            if user_ref not in pupil_class:
                if user_ref in self.unsure:
                    continue
                self.errors.append(
                    table.error(row, f"pupil {user_ref} is not enrolled in any class of the school")
                )
                continue
            before = len(self.errors)
            pupil_id = _id(table, row, "sourcedId", self.errors)
            first = self._preferred(table, row, "givenName", "preferredGivenName")
            surname = self._preferred(table, row, "familyName", "preferredFamilyName")
            class_id = pupil_class[user_ref][0]
            year_group_id = classes[class_id].year_group_id
            own_grades = _codes(row["grades"])
            if own_grades:
                if not is_id(f"grade-{own_grades[0]}"):
                    self.errors.append(
                        table.error(row, f"grades {own_grades[0]!r} is not a grade code")
                    )
                else:
                    group = year_group_for(own_grades[0])
                    year_groups.setdefault(group.year_group_id, group)
                    year_group_id = group.year_group_id
            if len(self.errors) > before:
                continue
            pupils[pupil_id] = Pupil(pupil_id, first, surname, year_group_id, class_id)
        return pupils

    def _preferred(self, table: Table, row: Row, column: str, preferred: str) -> str:
        if row[preferred]:
            return _name(table, row, preferred, self.errors)
        return _name(table, row, column, self.errors)

    def _staff(
        self, users: dict[str, _User], staff_classes: dict[str, set[str]]
    ) -> dict[str, StaffMember]:
        table = self.tables[USERS]
        staff: dict[str, StaffMember] = {}
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
                frozenset(staff_classes.get(user_ref, ())),
            )
        return staff
