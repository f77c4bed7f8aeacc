"""Each shape of real OneRoster export, as our own small fixture, with what it imports.

The shapes come from seven published sample sets of four unrelated projects (Moodle's
OneRoster plugin, TAO's importer and a fork of it, OneRosterSync.Net); the fixtures under
``fixtures/oneroster/<shape>/`` are written for these tests and reproduce each one's quirks.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from schoolgate_contracts.roster import StaffRole
from schoolgate_kit.problems import Problem
from schoolgate_roster.domain import (
    YearGroup,
)
from schoolgate_roster.import_diff import (
    Snapshot,
)
from schoolgate_roster.importing import ImportRejected, open_upload, read_snapshot
from schoolgate_roster.oneroster import year_group_for

SHAPES = Path(__file__).parents[1] / "fixtures" / "oneroster"
Files = dict[str, bytes]


def files_of(shape: str) -> Files:
    return {p.name: p.read_bytes() for p in sorted((SHAPES / shape).glob("*.csv"))}


def zipped(files: Files) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(f"export/{name}", data)  # exports often zip a folder
    return buffer.getvalue()


def read(shape: str, *edits: Callable[[Files], None], **options: Any) -> Snapshot:
    files = files_of(shape)
    for edit in edits:
        edit(files)
    kind, tables = open_upload("application/zip", zipped(files))
    return read_snapshot(kind, tables, school_id="ours", **options)


def refused(shape: str, *edits: Callable[[Files], None], **options: Any) -> Problem:
    with pytest.raises(Problem) as caught:
        read(shape, *edits, **options)
    assert caught.value.status == 422
    return caught.value


def errors(problem: Problem) -> set[tuple[str, int, str]]:
    assert isinstance(problem, ImportRejected)
    return {(e.file, e.line, e.reason) for e in problem.errors}


def warnings(snapshot: Snapshot) -> set[tuple[str, int, str]]:
    return {(w.file, w.line, w.reason) for w in snapshot.warnings}


def replace(name: str, old: str, new: str) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        assert old.encode() in files[name], f"{old!r} is not in {name}"
        files[name] = files[name].replace(old.encode(), new.encode())

    return edit


def test_the_fixtures_have_the_shapes_they_stand_for() -> None:
    department = files_of("department")
    assert department["users.csv"].startswith(b"\xef\xbb\xbf")  # a byte order mark
    assert all(b"\r\n" in data and not data.endswith(b"\n") for data in department.values())
    assert "manifest.csv" not in files_of("district-no-manifest")
    assert b",,,\n" in files_of("district-no-manifest")["enrollments.csv"].split(b"\n")[0] + b"\n"
    assert b"dataLastModified" in files_of("roles-misspelled")["roles.csv"]
    assert b"\r\n" not in files_of("district-extensions")["users.csv"]


def test_an_org_of_type_department_is_the_school() -> None:
    # catalyst v1p1: a department org, 1.1 role column, "Scheduled" classes beside a deleted
    # homeroom, inactive and deleted sessions, a parent; BOM, CRLF, no final newline
    snapshot = read("department")
    assert (snapshot.school_name, snapshot.school_source_id) == ("Willow Infants", "dept-7")
    assert {c: (k.name, k.year_group_id) for c, k in snapshot.classes.items()} == {
        "cls-robins": ("Robins", "grade-01")
    }
    assert {p: (x.first_name, x.class_id) for p, x in snapshot.pupils.items()} == {
        "usr-s1": ("Mia", "cls-robins"),
        "usr-s2": ("Leo", "cls-robins"),
    }
    assert snapshot.staff is not None
    assert {s: (m.role, m.class_ids) for s, m in snapshot.staff.items()} == {
        "usr-t1": (StaffRole.teacher, {"cls-robins"}),
        "usr-t2": (StaffRole.teacher, frozenset()),  # "Teacher", in any case
    }
    assert snapshot.terms is not None
    assert [t.name for t in snapshot.terms] == ["Autumn", "Spring"]
    # the deleted homeroom's enrollments are not "not in classes.csv": they are gone with it
    assert snapshot.warnings == ()
    assert snapshot.skipped == {"deleted": 4, "inactive": 3, "guardians": 1}
    assert not snapshot.delta


def test_classes_without_grades_are_warnings_until_no_class_is_left() -> None:
    # catalyst v1p1 minimal: nothing but required values, and no grades on any class
    no_grades = replace("classes.csv", 'Robins,"01,02",', "Robins,,")
    problem = refused("department", no_grades, replace("classes.csv", "Wrens,01,", "Wrens,,"))
    assert errors(problem) == {
        ("classes.csv", 1, "has no class of the school that can be read"),
        (
            "classes.csv",
            2,
            "grades is empty: the class, and pupils enrolled only in it, are left out",
        ),
    }


def test_a_misspelled_ragged_one_two_header_reads() -> None:
    # catalyst v1p2: roles.csv says dataLastModified and ends in two nameless columns its rows
    # leave out; users.csv says prefferedGivenName; a secondary role is someone's only one
    snapshot = read("roles-misspelled")
    assert {p: (x.first_name, x.surname) for p, x in snapshot.pupils.items()} == {
        "u-s1": ("Ivy-May", "Ng"),
        "u-s2": ("Ben", "Ola-Smith"),
    }
    assert snapshot.staff is not None
    assert {s: (m.display_name, m.role) for s, m in snapshot.staff.items()} == {
        "u-head": ("Ruth Ade", StaffRole.school_admin),
        "u-t1": ("Om Khan", StaffRole.teacher),  # primary teacher, secondary guardian
    }
    assert list(snapshot.classes) == ["hazel-4"]  # "04,05": the first grade is the year group
    assert snapshot.year_groups["grade-04"].name == "Year 4"
    assert warnings(snapshot) == {
        (
            "users.csv",
            6,
            "pupil u-s3 is not enrolled in any class of the school: they are left out",
        )
    }
    assert snapshot.skipped == {"deleted": 2, "lessons": 1}


def test_a_district_file_asks_which_school_then_reads_only_that_one() -> None:
    # oat-sa / snapwiz: two schools, metadata.* and ext_* columns, the 1.0 "grade" column,
    # 1.0 column order, a quoted comma, a session row with an extra empty field
    problem = refused("district-extensions")
    assert problem.slug == "choose-school"
    assert problem.extra["schools"] == [
        {"source_id": "101", "name": "Elm Primary"},
        {"source_id": "202", "name": "Fir Primary"},
    ]
    snapshot = read("district-extensions", org="101")
    assert (snapshot.school_name, snapshot.school_source_id) == ("Elm Primary", "101")
    assert sorted(snapshot.classes) == ["c1", "c4"]
    assert snapshot.year_groups["grade-02"].name == "Year 2"
    assert {p: (x.surname, x.class_id) for p, x in snapshot.pupils.items()} == {
        "u1": ("Stone, Jr.", "c1"),
        "u6": ("Moss", "c1"),
    }
    assert snapshot.staff is not None and list(snapshot.staff) == ["u3"]
    assert warnings(snapshot) == {
        (
            "classes.csv",
            3,
            "grades is empty: the class, and pupils enrolled only in it, are left out",
        ),
        # without homerooms, lessons are the classes: a pupil in two is placed in the first
        (
            "enrollments.csv",
            9,
            "pupil u6 is also in class c4: they are placed in their first, c1 (line 7)",
        ),
    }
    # Fir's class, its two enrollments, and its pupil, teacher and administrator
    assert snapshot.skipped == {"other_schools": 6}


def test_a_recorded_source_id_picks_the_school_and_a_wrong_one_is_refused() -> None:
    assert read("district-extensions", school_source_id="202").school_name == "Fir Primary"
    problem = refused("district-extensions", org="999")
    assert problem.slug == "wrong-school"
    assert problem.detail == (
        "the file has no school 999: it lists Elm Primary (101), Fir Primary (202)"
    )
    assert [s["source_id"] for s in problem.extra["schools"]] == ["101", "202"]
    problem = refused("district-extensions", school_source_id="202", org="101")
    assert problem.slug == "wrong-school"
    # one school needs no choice, and a recorded id that is not in it is refused
    problem = refused("department", school_source_id="dept-8")
    assert problem.slug == "wrong-school"


def test_rows_of_orgs_missing_from_orgs_csv_are_reported_by_line() -> None:
    # OneRosterSync.Net: no manifest, a district with two schools, US dates, "toBeDeleted",
    # grades "5" and "01,05" and "PK", a header with three nameless columns, rows of orgs
    # orgs.csv does not have
    snapshot = read("district-no-manifest", org="sch-1", grade_names="us")
    assert {c: k.year_group_id for c, k in snapshot.classes.items()} == {
        "k1": "grade-KG",
        "g5": "grade-05",
        "mix": "grade-01",
    }
    assert {g.name for g in snapshot.year_groups.values()} == {
        "Kindergarten",
        "Grade 5",
        "Grade 1",
    }
    assert sorted(snapshot.pupils) == ["p1", "p2", "p3"]
    assert snapshot.staff is not None and list(snapshot.staff) == ["t1"]
    assert snapshot.terms is not None
    assert [(t.name, t.starts.isoformat()) for t in snapshot.terms] == [
        ("Full year", "2026-08-27"),
        ("S1", "2026-08-27"),
    ]
    assert warnings(snapshot) == {
        (
            "academicSessions.csv",
            4,
            "startDate '1/7/2027' or endDate '31/5/2027' is not a date (YYYY-MM-DD or"
            " M/D/YYYY): the term is left out",
        ),
        ("classes.csv", 6, "schoolSourcedId sch-3 is not in orgs.csv: the class is left out"),
        ("users.csv", 5, "org sch-01 is not in orgs.csv: the user is left out"),
        ("users.csv", 8, "org sch-3 is not in orgs.csv: the user is left out"),
    }
    # the deleted Pre-K class and its enrollment; the upper school's class, enrollment, pupil
    assert snapshot.skipped == {"deleted": 2, "other_schools": 3}
    # read for the upper school, the lower school's rows are its own, deleted or not
    assert read("district-no-manifest", org="sch-2").skipped == {"other_schools": 13}


def test_uk_names_are_the_default_for_us_grade_codes() -> None:
    snapshot = read("district-no-manifest", org="sch-1")
    assert snapshot.year_groups["grade-KG"].name == "Reception"
    assert snapshot.year_groups["grade-05"].name == "Year 5"


def test_a_grade_code_is_one_year_group_however_it_is_written() -> None:
    assert year_group_for("5") == year_group_for(" 05 ") == YearGroup("grade-05", "Year 5")
    assert year_group_for("kg", "us") == YearGroup("grade-KG", "Kindergarten")
    assert year_group_for("Other", "us") == YearGroup("grade-OTHER", "Other")


def test_a_school_whose_classes_all_name_a_missing_org_imports_nothing() -> None:
    # today's "done with 0 of 4 pupils": the upper school's class names an org that is not
    # in orgs.csv, so nothing of it can be read, and that is an error, with the reasons
    lost = replace("classes.csv", "Room 6,sch-2,", "Room 6,sch-9,")
    problem = refused("district-no-manifest", lost, school_source_id="sch-2")
    assert errors(problem) >= {
        ("classes.csv", 1, "has no class of the school that can be read"),
        ("classes.csv", 7, "schoolSourcedId sch-9 is not in orgs.csv: the class is left out"),
    }


def test_a_delta_names_what_changed_and_what_was_deleted() -> None:
    # catalyst v1p2 delta: every file is "delta" in the manifest
    snapshot = read("delta")
    assert snapshot.delta
    assert snapshot.school_source_id == "oak-src"
    assert list(snapshot.classes) == ["c-rowan"]
    assert {p: (x.class_id, x.year_group_id) for p, x in snapshot.pupils.items()} == {
        "s-moved": ("c-oak", "grade-03"),  # a class the school has, not in this delta
        "s-new": ("c-rowan", "grade-03"),
        "s-renamed": ("", ""),  # no enrollment in the delta: they keep their class
    }
    assert snapshot.staff is not None
    assert {s: m.class_ids for s, m in snapshot.staff.items()} == {"t-new": {"c-rowan"}}
    assert snapshot.removed_pupils == {"s-left"}
    assert snapshot.removed_staff == {"t-left"}
    assert snapshot.removed_classes == {"c-willow"}
    assert warnings(snapshot) == {
        (
            "enrollments.csv",
            6,
            "userSourcedId s-unchanged is not in this delta's users.csv: their class is not"
            " changed",
        )
    }
    assert snapshot.skipped == {"deleted": 6}


def test_a_delta_needs_only_the_files_it_lists() -> None:
    def users_only(files: Files) -> None:
        for name in ("classes.csv", "enrollments.csv", "roles.csv"):
            del files[name]
        files["manifest.csv"] = (
            b"propertyName,value\r\noneroster.version,1.2\r\nfile.orgs,delta\r\n"
            b"file.users,delta\r\nfile.classes,absent\r\n"
        )

    snapshot = read("delta", users_only)
    assert snapshot.delta and snapshot.classes == {}
    assert snapshot.pupils == {}  # without roles, nobody in it is known to be a pupil
    assert snapshot.removed_pupils == snapshot.removed_staff == {"s-left", "t-left"}
    # a bulk file without classes and enrollments is refused, naming both
    problem = refused(
        "delta",
        users_only,
        replace("manifest.csv", "file.users,delta", "file.users,bulk"),
        replace("manifest.csv", "file.orgs,delta", "file.orgs,bulk"),
    )
    assert errors(problem) == {
        ("classes.csv", 1, "is missing from the zip"),
        ("enrollments.csv", 1, "is missing from the zip"),
    }


def test_a_delta_class_without_grades_is_a_warning() -> None:
    # catalyst's delta: one scheduled class without grades, one pupil in it
    snapshot = read("delta", replace("classes.csv", "Rowan,03,,,homeroom", "Rowan,,,,scheduled"))
    assert (
        "classes.csv",
        2,
        "grades is empty: the class, and pupils enrolled only in it, are left out",
    ) in warnings(snapshot)
    assert "s-new" not in snapshot.pupils and snapshot.classes == {}


def test_every_problem_of_every_file_is_reported_at_once() -> None:
    problem = refused(
        "department",
        replace("manifest.csv", "oneroster.version,1.1", "oneroster.version,9"),
        replace("users.csv", "givenName", "firstName"),
        replace("enrollments.csv", "usr-s2,student", "usr-s2,wizard"),
        replace("classes.csv", "cls-robins,", "cls robins,"),
        replace("enrollments.csv", "cls-robins,", "cls robins,"),
        replace("orgs.csv", "Willow  Infants", ""),
    )
    assert errors(problem) == {
        ("manifest.csv", 3, "oneroster.version '9' is not 1.2, 1.1 or 1.0"),
        ("users.csv", 1, "has no column givenName"),
        ("enrollments.csv", 4, "role 'wizard' is not an enrollment role"),
        (
            "classes.csv",
            2,
            "sourcedId 'cls robins' is not a Schoolgate id (1 to 64 letters, digits, '-' or '_')",
        ),
        ("orgs.csv", 2, "name is empty"),
    }


def test_a_short_row_under_named_columns_is_still_malformed() -> None:
    problem = refused("roles-misspelled", replace("roles.csv", "u-s2,primary,student,", "u-s2,"))
    assert ("roles.csv", 6, "has 7 fields but the header has 11") in errors(problem)


def test_a_pupil_in_two_homerooms_is_still_an_error() -> None:
    def second_homeroom(files: Files) -> None:
        files["enrollments.csv"] += b"\n" + b"enr-9,active,,cls-jays,dept-7,usr-s2,student,,,"
        files["classes.csv"] += b"\r\ncls-jays,active,,Jays,02,,,homeroom,,dept-7,,,,"
        files["classes.csv"] = files["classes.csv"].replace(b"Scheduled", b"homeroom")

    problem = refused("department", second_homeroom)
    assert errors(problem) == {
        (
            "enrollments.csv",
            8,
            "pupil usr-s2 is already in class cls-robins (line 4): a pupil belongs to one class",
        )
    }


def test_the_same_enrollment_twice_is_not_a_second_class() -> None:
    # snapwiz enrolls a pupil in the same class under two sourcedIds
    def twice(files: Files) -> None:
        files["enrollments.csv"] += b"\r\nenr-7,active,,cls-robins,dept-7,usr-s2,student,,,"

    snapshot = read("department", twice)
    assert snapshot.pupils["usr-s2"].class_id == "cls-robins"
    assert snapshot.warnings == ()


def test_a_broken_member_is_named_with_the_other_files_problems() -> None:
    data = bytearray(zipped(files_of("department")))
    users = data.find(b"users.csv") + len(b"users.csv")  # its local header, then its bytes
    data[users + 20 : users + 24] = b"\x00\x00\x00\x00"  # a corrupt stretch of deflate data
    kind, tables = open_upload("application/zip", bytes(data))
    assert not tables["users.csv"].usable
    with pytest.raises(ImportRejected) as caught:
        read_snapshot(kind, tables, school_id="ours")
    found = errors(caught.value)
    assert [(f, line) for f, line, _ in found] == [("users.csv", 1)]
    assert next(iter(found))[2].startswith("cannot be unpacked: Error -3 while decompressing")


def test_a_zip_without_any_oneroster_file_is_refused_before_a_row_is_read() -> None:
    from schoolgate_roster.importing import check_upload

    with pytest.raises(ImportRejected) as caught:
        check_upload("application/zip", zipped({"readme.txt": b"hello"}))
    assert errors(caught.value) == {
        ("upload", 1, "has none of the OneRoster files (orgs.csv, ...)")
    }
    assert check_upload("application/zip", zipped({"users.csv": b"sourcedId"})) == "oneroster"
