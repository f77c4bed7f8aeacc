"""Reading a school's roster files into a ``Snapshot``, or into a list of what is wrong.

Two kinds of upload are understood: a OneRoster CSV zip (1.0 to 1.2, bulk or delta; read in
``oneroster``) and a simple one-row-per-pupil CSV. Reading is pure: bytes in, a snapshot or
errors out. Every error and warning names its file, line and reason. A file with any error
imports nothing; rows with a warning are passed over and the rest imports.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from schoolgate_kit.problems import Problem, Unprocessable

from schoolgate_roster.domain import (
    Pupil,
    SchoolClass,
    YearGroup,
    is_id,
)
from schoolgate_roster.import_diff import (
    RowWarning,
    Snapshot,
)

Progress = Callable[[int, int], None]

MAX_UNPACKED_BYTES = 200 * 1024 * 1024
"""A zip may not unpack to more than this: a school's roster is a few megabytes."""
MAX_NAME = 100

ONEROSTER = "oneroster"
SIMPLE_CSV = "csv"
ZIP_TYPES = frozenset({"application/zip", "application/x-zip-compressed"})
CSV_TYPES = frozenset({"text/csv", "application/csv"})


@dataclass(frozen=True, order=True)
class RowError(RowWarning):
    """A row that stops the import, by file and line: a warning's shape, another weight."""


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
    usable: bool = True
    """False for a file whose header is unusable: its problems are in ``malformed`` and its
    rows are not read, so the other files can still be checked in the same pass."""

    def error(self, row: Row | None, reason: str) -> RowError:
        return RowError(self.file, 1 if row is None else row.line, reason)


def read_table(
    file: str,
    data: bytes,
    required: Iterable[str],
    *,
    aliases: Mapping[str, str] | None = None,
    lenient: bool = False,
) -> Table:
    """A CSV file as rows keyed by its header, each with the line it starts on.

    ``aliases`` renames header cells (older or misspelled column names) unless the file also
    has the proper name. ``lenient`` tolerates what real exports do to the ends of rows:
    extra empty cells after the last column, and missing cells under nameless columns."""
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
    named = 0  # how many cells a row needs: up to the header's last named column
    ended = 0  # the line the previous record ended on
    try:
        for record in reader:
            start, ended = ended + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if columns is None:
                columns = _header(record, aliases or {})
                named = max((i + 1 for i, c in enumerate(columns) if c), default=0)
                continue
            if len(record) != len(columns) and lenient and len(record) >= named:
                if len(record) > len(columns) and not any(
                    c.strip() for c in record[len(columns) :]
                ):
                    record = record[: len(columns)]
                elif len(record) < len(columns):
                    record = record + [""] * (len(columns) - len(record))
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


def _header(record: list[str], aliases: Mapping[str, str]) -> tuple[str, ...]:
    names = [cell.strip() for cell in record]
    present = set(names)
    return tuple(aliases[n] if n in aliases and aliases[n] not in present else n for n in names)


def check_upload(content_type: str, data: bytes) -> str:
    """The kind of upload, or an error for one that cannot be a roster at all: the type, and
    for a zip the names and sizes in its directory. Reads no row and unpacks nothing, so the
    upload request answers at once; the rows, and which files a OneRoster export lacks, are
    read by the job, in a process of its own, where every problem is found in one pass."""
    from schoolgate_roster import oneroster  # it builds on this module's tables

    kind = content_type.split(";")[0].strip().lower()
    if kind in CSV_TYPES:
        return SIMPLE_CSV
    if kind not in ZIP_TYPES:
        raise UnsupportedUpload(
            f"send a OneRoster zip as application/zip or a pupil list as text/csv, not {kind!r}"
        )
    oneroster.check_zip(data)
    return ONEROSTER


def open_upload(content_type: str, data: bytes) -> tuple[str, dict[str, Table]]:
    """The kind of upload and its tables, or an error for a file that cannot be read at all."""
    from schoolgate_roster import oneroster

    kind = content_type.split(";")[0].strip().lower()
    if kind in ZIP_TYPES:
        return ONEROSTER, oneroster.open_zip(data)
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
    grade_names: str = "uk",
    progress: Progress | None = None,
) -> Snapshot:
    """The school as the file describes it.

    ``school_source_id`` is the school's id in its own system, recorded by an earlier import;
    ``org`` is the school the leader picked among a district file's; ``grade_names`` ("uk" or
    "us") names the year groups a file's grade codes add."""
    from schoolgate_roster import oneroster

    if grade_names not in oneroster.GRADE_NAMES:
        raise Unprocessable(
            f"grade_names must be one of {', '.join(sorted(oneroster.GRADE_NAMES))},"
            f" not {grade_names!r}"
        )
    counter = _Counter(count_rows(tables), progress)
    counter.done = sum(len(t.malformed) for t in tables.values())  # read, and already judged
    if kind == ONEROSTER:
        return oneroster.Reading(
            tables,
            school_source_id=school_source_id,
            org=org,
            grade_names=grade_names,
            counter=counter,
        ).snapshot()
    return simple_snapshot(tables[SIMPLE_FILE], counter)


class ChooseSchool(Unprocessable):
    slug = "choose-school"
    title = "The file has several schools: choose yours"

    def __init__(self, schools: list[dict[str, str]]) -> None:
        super().__init__(
            f"the file lists {len(schools)} schools; choose the one that is yours",
            schools=schools,
        )


class WrongSchool(Unprocessable):
    slug = "wrong-school"
    title = "The file is not this school's"

    def __init__(self, detail: str, schools: list[dict[str, str]]) -> None:
        super().__init__(detail, schools=schools)


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
