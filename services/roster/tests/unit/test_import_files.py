"""Reading roster files: the sample OneRoster export, a simple pupil CSV, and every bad row
named by file, line and reason. No I/O beyond the fixture files."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from schoolgate_contracts.roster import StaffRole
from schoolgate_roster.importing import (
    ImportRejected,
    UnsupportedUpload,
    open_upload,
    read_snapshot,
)

ZIP = "application/zip"
Files = dict[str, str]


def read(data: bytes, content_type: str = ZIP, school_id: str = "oakfield"):  # type: ignore[no-untyped-def]
    kind, tables = open_upload(content_type, data)
    return read_snapshot(kind, tables, school_id=school_id)


def errors_of(data: bytes, content_type: str = ZIP) -> set[tuple[str, int, str]]:
    with pytest.raises(ImportRejected) as caught:
        read(data, content_type)
    assert caught.value.status == 422
    body = caught.value.body()
    assert body["type"].endswith("/roster-import-invalid")
    return {(e["file"], e["line"], e["reason"]) for e in body["errors"]}


def replace(name: str, old: str, new: str) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        assert old in files[name], f"{old!r} is not in {name}"
        files[name] = files[name].replace(old, new, 1)

    return edit


def test_the_sample_export_is_a_whole_primary_school(oneroster: Callable[..., bytes]) -> None:
    snapshot = read(oneroster())
    assert snapshot.school_name == "Oakfield Primary School"
    assert {g.name for g in snapshot.year_groups.values()} == {"Year 3", "Year 4"}
    # homeroom classes only: the recorder group is a lesson, not a class
    assert sorted(c.name for c in snapshot.classes.values()) == ["Ash", "Birch", "Cedar", "Damson"]
    assert len(snapshot.pupils) == 20
    sam = snapshot.pupils["stu-0001"]
    assert (sam.first_name, sam.surname, sam.class_id, sam.year_group_id) == (
        "Sam",
        "Khan",
        "ash",
        "grade-03",
    )
    assert snapshot.staff is not None
    roles = {s.staff_id: s.role for s in snapshot.staff.values()}
    assert roles == {
        "tch-okafor": StaffRole.teacher,
        "tch-brennan": StaffRole.teacher,
        "tch-nowak": StaffRole.teacher,
        "aide-patel": StaffRole.teaching_assistant,
        "aide-hughes": StaffRole.teaching_assistant,
        "adm-price": StaffRole.school_admin,
    }  # the guardian is not staff, and not a pupil
    assert snapshot.staff["tch-nowak"].class_ids == {"cedar", "damson"}
    assert snapshot.staff["aide-patel"].display_name == "Priya Patel"
    assert snapshot.terms is not None
    assert [t.name for t in snapshot.terms] == ["Autumn term", "Spring term", "Summer term"]
    assert snapshot.skipped == {"guardians": 1, "lessons": 1}
    assert snapshot.warnings == ()
    assert snapshot.school_source_id == "oakfield"


def test_progress_is_reported_up_to_every_row(oneroster: Callable[..., bytes]) -> None:
    kind, tables = open_upload(ZIP, oneroster())
    seen: list[tuple[int, int]] = []
    read_snapshot(kind, tables, school_id="oak", progress=lambda n, total: seen.append((n, total)))
    total = sum(len(t.rows) for t in tables.values())
    assert seen[-1] == (total, total)
    assert [n for n, _ in seen] == sorted(n for n, _ in seen)


def test_each_bad_row_is_named_by_file_line_and_reason(oneroster: Callable[..., bytes]) -> None:
    data = oneroster(
        # users.csv line 4 is stu-0003 (Ada): no given name
        replace("users.csv", "ada.okonkwo,,Ada,", "ada.okonkwo,,,"),
        # classes.csv line 3 is Birch: no year group, which alone would be a warning
        replace("classes.csv", "Birch,03,", "Birch,,"),
        # enrollments.csv line 21 names a class that does not exist
        replace("enrollments.csv", "enr-0020,,2026-08-28T09:00:00.000Z,damson", "enr-0020,,x,oak"),
        # roles.csv line 2 has a role OneRoster does not know
        replace("roles.csv", "primary,student", "primary,wizard"),
        # users.csv line 29 repeats the sourcedId of line 10
        lambda files: files.__setitem__(
            "users.csv", files["users.csv"] + files["users.csv"].splitlines()[9] + "\r\n"
        ),
    )
    found = errors_of(data)
    assert found == {
        ("users.csv", 4, "givenName is empty"),
        ("enrollments.csv", 21, "classSourcedId oak is not in classes.csv"),
        ("roles.csv", 2, "role 'wizard' is not a OneRoster role"),
        ("users.csv", 29, "sourcedId stu-0009 is on line 10 too"),
    }  # and no echoes: Birch's pupils and stu-0020 are not also "not enrolled"


def test_a_class_without_grades_is_left_out_with_a_warning(
    oneroster: Callable[..., bytes],
) -> None:
    snapshot = read(oneroster(replace("classes.csv", "Birch,03,", "Birch,,")))
    assert [(w.file, w.line, w.reason) for w in snapshot.warnings] == [
        (
            "classes.csv",
            3,
            "grades is empty: the class, and pupils enrolled only in it, are left out",
        )
    ]
    assert "birch" not in snapshot.classes
    assert {p.class_id for p in snapshot.pupils.values()} == {"ash", "cedar", "damson"}
    assert snapshot.staff is not None and snapshot.staff["tch-brennan"].class_ids == set()


def ghosts(count: int) -> Callable[[Files], None]:
    """Pupils of the school enrolled in no class: each a warning, users.csv line 29 on."""

    def edit(files: Files) -> None:
        files["users.csv"] += "".join(
            f"ghost-{n},,,true,g{n},,Ghost,N{n},,,,,,,03,,,,,,,oakfield,\r\n" for n in range(count)
        )
        files["roles.csv"] += "".join(
            f"role-g{n},,,ghost-{n},primary,student,,,oakfield,\r\n" for n in range(count)
        )

    return edit


def test_a_few_pupils_in_no_class_are_warnings(oneroster: Callable[..., bytes]) -> None:
    snapshot = read(oneroster(ghosts(21)))
    assert len(snapshot.pupils) == 20
    assert len(snapshot.warnings) == 21
    assert snapshot.warnings[0].as_json() == {
        "file": "users.csv",
        "line": 29,
        "reason": "pupil ghost-0 is not enrolled in any class of the school: they are left out",
    }


def test_a_file_whose_pupils_are_mostly_in_no_class_is_refused(
    oneroster: Callable[..., bytes],
) -> None:
    found = errors_of(oneroster(ghosts(31)))
    assert (
        "users.csv",
        1,
        "has 31 pupils in no class of the school and only 20 in one: this is not the"
        " school's roster",
    ) in found
    assert len(found) == 32  # and each ghost by its line


def test_a_pupil_belongs_to_one_class(oneroster: Callable[..., bytes]) -> None:
    extra = "enr-9999,,,birch,oakfield,stu-0001,student,,,\r\n"
    data = oneroster(
        lambda files: files.__setitem__("enrollments.csv", files["enrollments.csv"] + extra)
    )
    assert errors_of(data) == {
        (
            "enrollments.csv",
            32,
            "pupil stu-0001 is already in class ash (line 2): a pupil belongs to one class",
        )
    }


def test_lines_are_counted_across_quoted_line_breaks(oneroster: Callable[..., bytes]) -> None:
    data = oneroster(
        replace("orgs.csv", "Northshire Learning Trust", '"Northshire\r\nLearning Trust"'),
        replace("orgs.csv", "Oakfield Primary School,school", ",school"),
    )
    # the district's name spans lines 2-3, so the school's row starts on line 4
    assert errors_of(data) == {("orgs.csv", 4, "name is empty")}


def test_missing_files_and_columns_are_refused_in_one_pass(
    oneroster: Callable[..., bytes],
) -> None:
    data = oneroster(
        lambda files: files.pop("enrollments.csv"),
        lambda files: files.pop("orgs.csv"),
        replace("users.csv", "givenName,familyName", "first,familyName"),
        replace("classes.csv", "ash,", "ash!,"),
    )
    assert errors_of(data) == {
        ("enrollments.csv", 1, "is missing from the zip"),
        ("orgs.csv", 1, "is missing from the zip"),
        ("users.csv", 1, "has no column givenName"),
        (
            "classes.csv",
            2,
            "sourcedId 'ash!' is not a Schoolgate id (1 to 64 letters, digits, '-' or '_')",
        ),
    }


def test_what_is_not_a_zip_or_not_text_is_refused() -> None:
    assert errors_of(b"not a zip at all") == {("upload", 1, "is not a zip file")}
    with pytest.raises(UnsupportedUpload):
        open_upload("application/pdf", b"%PDF")


def test_a_one_one_export_with_roles_in_users_csv_reads_too(
    oneroster: Callable[..., bytes],
) -> None:
    def one_one(files: Files) -> None:
        roles = {}
        for line in files.pop("roles.csv").splitlines()[1:]:
            cells = line.split(",")
            roles[cells[3]] = cells[5]
        lines = files["users.csv"].splitlines()
        out = [
            "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,"
            "userIds,givenName,familyName,middleName,identifier,email,sms,phone,"
            "agentSourcedIds,grades,password"
        ]
        for line in lines[1:]:
            c = line.split(",")
            out.append(",".join([c[0], c[1], c[2], c[3], "oakfield", roles[c[0]], *c[4:16]]))
        files["users.csv"] = "\r\n".join(out) + "\r\n"
        files["manifest.csv"] = files["manifest.csv"].replace(",1.2", ",1.1")

    snapshot = read(oneroster(one_one))
    assert len(snapshot.pupils) == 20
    assert snapshot.staff is not None and len(snapshot.staff) == 6


SIMPLE = (
    "\ufeffpupil_id,first_name,surname,year_group,class\r\n"
    "p1,Sam,Khan,Year 3,Ash\r\n"
    "p2,Sam,Kelly,Year 3,Ash\r\n"
    "p3,Ada,Okonkwo,Year 4,Cedar\r\n"
)


def test_a_simple_csv_names_its_year_groups_and_classes() -> None:
    snapshot = read(SIMPLE.encode(), "text/csv; charset=utf-8")
    assert snapshot.match_by_name
    assert snapshot.year_groups["year-3"].name == "Year 3"
    assert snapshot.classes["cedar"].year_group_id == "year-4"
    assert snapshot.pupils["p2"].class_id == "ash"
    assert snapshot.staff is None


def test_bad_rows_of_a_simple_csv_are_named_by_line() -> None:
    text = SIMPLE + (
        "p4!,Leo,Fitz,Year 3,Ash\r\n"  # line 5
        "p5,Maya,,Year 3,Ash\r\n"  # line 6
        "p1,Sam,Khan,Year 3,Ash\r\n"  # line 7
        "p6,Noah,Abbott,Year 4,Ash\r\n"  # line 8
        "p7,Isla\r\n"  # line 9
    )
    assert errors_of(text.encode(), "text/csv") == {
        (
            "pupils.csv",
            5,
            "pupil_id 'p4!' is not a Schoolgate id (1 to 64 letters, digits, '-' or '_')",
        ),
        ("pupils.csv", 6, "surname is empty"),
        ("pupils.csv", 7, "pupil_id p1 is on line 2 too"),
        (
            "pupils.csv",
            8,
            "class 'Ash' is in year group 'Year 3' on line 2: a class belongs to one year group",
        ),
        ("pupils.csv", 9, "has 2 fields but the header has 5"),
    }


def test_a_csv_that_is_not_utf8_is_named_at_its_line() -> None:
    data = SIMPLE.encode() + "p9,Zoë,Ng,Year 3,Ash\r\n".encode("latin-1")
    assert errors_of(data, "text/csv") == {("pupils.csv", 5, "is not UTF-8 text")}
