"""Given a roster, when a whole school's file is imported, then the events that make them
agree, and a report of what changed. No I/O."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
from schoolgate_contracts import Event, registry
from schoolgate_contracts.roster import (
    ClassAdded,
    ClassDetailsChanged,
    PupilDetailsChanged,
    PupilEnrolled,
    PupilLeft,
    PupilMovedClass,
    RosterImported,
    SchoolDetails,
    SchoolDetailsChanged,
    SchoolRegistered,
    StaffAssignedToClass,
    StaffMemberAdded,
    StaffMemberLeft,
    StaffRole,
    StaffRoleChanged,
    StaffUnassignedFromClass,
    Term,
    YearGroupAdded,
    YearGroupRenamed,
)
from schoolgate_roster.domain import (
    Pupil,
    Roster,
    SchoolClass,
    StaffMember,
    UnknownReference,
    YearGroup,
    evolve,
    initial_state,
)
from schoolgate_roster.import_diff import (
    ImportRoster,
    NotThisSchool,
    RowWarning,
    Snapshot,
    decide_import,
)

AS_FILED = lambda kind, source: source  # noqa: E731 - ids as the file gives them, to read easily
Y3 = YearGroup("y3", "Year 3")
ASH = SchoolClass("ash", "Ash", "y3")
BIRCH = SchoolClass("birch", "Birch", "y3")
PUPILS = {
    "p1": Pupil("p1", "Sam", "Khan", "y3", "ash"),
    "p2": Pupil("p2", "Sam", "Kelly", "y3", "ash"),
    "p3": Pupil("p3", "Ada", "Okonkwo", "y3", "birch"),
}
TEACHER = StaffMember("t1", "Grace Okafor", "g@oak.example", StaffRole.teacher, frozenset({"ash"}))


def snapshot(
    pupils: dict[str, Pupil] | None = None, staff: dict[str, StaffMember] | None = None
) -> Snapshot:
    return Snapshot(
        source="oneroster",
        year_groups={"y3": Y3},
        classes={"ash": ASH, "birch": BIRCH},
        pupils=PUPILS if pupils is None else pupils,
        staff={"t1": TEACHER} if staff is None else staff,
        school_name="Oakfield Primary",
    )


def given(*events: Event) -> Roster:
    state = initial_state()
    for event in events:
        state = evolve(state, event)
    return state


def imported(file: Snapshot, import_id: str = "i1", *, full: bool = True) -> list[Event]:
    return decide_import(
        initial_state(), ImportRoster(import_id, "oak", file, full), AS_FILED
    ).events


def test_a_first_import_registers_the_school_and_adds_everyone() -> None:
    decision = decide_import(initial_state(), ImportRoster("i1", "oak", snapshot()), AS_FILED)
    events = decision.events
    assert events[0] == SchoolRegistered(
        school_id="oak", details=SchoolDetails(name="Oakfield Primary")
    )
    assert YearGroupAdded(year_group_id="y3", name="Year 3", source_id="y3") in events
    assert (
        ClassAdded(class_id="birch", name="Birch", year_group_id="y3", source_id="birch") in events
    )
    assert sum(isinstance(e, PupilEnrolled) for e in events) == 3
    assert StaffAssignedToClass(staff_id="t1", class_id="ash") in events
    assert events[-1] == RosterImported(
        import_id="i1", source="oneroster", added=3, moved=0, left=0, unchanged=0
    )
    report = decision.report.as_json()
    assert (report["added"], report["moved"], report["left"], report["unchanged"]) == (3, 0, 0, 0)
    assert report["staff"]["added"] == ["t1"]
    assert report["events"] == len(events)


def test_the_same_file_again_changes_nothing_and_says_so() -> None:
    state = given(*imported(snapshot()))
    decision = decide_import(state, ImportRoster("i2", "oak", snapshot()), AS_FILED)
    assert decision.events == []
    report = decision.report.as_json()
    assert (report["added"], report["moved"], report["left"], report["unchanged"]) == (0, 0, 0, 3)
    assert report["staff"]["unchanged"] == 1


def test_a_moved_pupil_and_a_missing_pupil_are_moved_and_left() -> None:
    state = given(*imported(snapshot()))
    later = {
        "p1": PUPILS["p1"],
        "p2": Pupil("p2", "Sam", "Kelly", "y3", "birch"),  # moved from Ash
        # p3 is not in the file: left
    }
    decision = decide_import(state, ImportRoster("i2", "oak", snapshot(later), full=True), AS_FILED)
    assert decision.events == [
        PupilMovedClass(
            pupil_id="p2", from_class_id="ash", to_class_id="birch", year_group_id="y3"
        ),
        PupilLeft(pupil_id="p3", class_id="birch"),
        RosterImported(import_id="i2", source="oneroster", added=0, moved=1, left=1, unchanged=1),
    ]
    after = given(*imported(snapshot()), *decision.events)
    assert after.pupils["p3"].on_roll is False  # marked left, never deleted


def test_a_partial_import_marks_nobody_left() -> None:
    state = given(*imported(snapshot()))
    decision = decide_import(state, ImportRoster("i2", "oak", snapshot({}), full=False), AS_FILED)
    assert decision.events == []
    assert decision.report.as_json()["left"] == 0


def test_a_pupil_who_left_and_is_back_in_the_file_is_added_again() -> None:
    state = given(*imported(snapshot()), PupilLeft(pupil_id="p3", class_id="birch"))
    decision = decide_import(state, ImportRoster("i2", "oak", snapshot()), AS_FILED)
    assert [type(e) for e in decision.events] == [PupilEnrolled, RosterImported]
    assert decision.report.added == ["p3"]


def test_a_new_name_is_a_details_change_not_a_new_pupil() -> None:
    state = given(*imported(snapshot()))
    renamed = {**PUPILS, "p3": Pupil("p3", "Adaeze", "Okonkwo", "y3", "birch")}
    decision = decide_import(state, ImportRoster("i2", "oak", snapshot(renamed)), AS_FILED)
    assert decision.events[0] == PupilDetailsChanged(
        pupil_id="p3", first_name="Adaeze", surname="Okonkwo"
    )
    assert decision.report.renamed == ["p3"]
    assert decision.report.unchanged == 2


def test_staff_changes_are_diffed_and_missing_staff_have_left() -> None:
    aide = StaffMember("a1", "Priya Patel", "", StaffRole.teaching_assistant, frozenset({"ash"}))
    state = given(*imported(snapshot(staff={"t1": TEACHER, "a1": aide})))
    promoted = StaffMember(
        "t1", "Grace Okafor", "g@oak.example", StaffRole.leader, frozenset({"birch"})
    )
    decision = decide_import(
        state, ImportRoster("i2", "oak", snapshot(staff={"t1": promoted}), full=True), AS_FILED
    )
    assert decision.events[:-1] == [
        StaffRoleChanged(staff_id="t1", role=StaffRole.leader),
        StaffAssignedToClass(staff_id="t1", class_id="birch"),
        StaffUnassignedFromClass(staff_id="t1", class_id="ash"),
        StaffMemberLeft(staff_id="a1"),
    ]
    assert decision.report.staff_changed == ["t1"]
    assert decision.report.staff_left == ["a1"]


def test_a_file_without_staff_leaves_staff_alone() -> None:
    state = given(*imported(snapshot()))
    without_staff = Snapshot(
        source="csv", year_groups={"y3": Y3}, classes={"ash": ASH, "birch": BIRCH}, pupils=PUPILS
    )
    assert decide_import(state, ImportRoster("i2", "oak", without_staff), AS_FILED).events == []


def test_a_class_renamed_in_the_file_is_changed() -> None:
    state = given(*imported(snapshot()))
    file = Snapshot(
        source="oneroster",
        year_groups={"y3": Y3},
        classes={"ash": SchoolClass("ash", "Ash Class", "y3"), "birch": BIRCH},
        pupils=PUPILS,
        staff={"t1": TEACHER},
    )
    events = decide_import(state, ImportRoster("i2", "oak", file), AS_FILED).events
    assert events[0] == ClassDetailsChanged(class_id="ash", name="Ash Class", year_group_id="y3")


def test_an_import_applied_before_is_not_applied_again() -> None:
    state = given(*imported(snapshot(), "i1"))
    decision = decide_import(state, ImportRoster("i1", "oak", snapshot({}), full=True), AS_FILED)
    assert decision.events == []
    assert decision.report.as_json()["added"] == 3
    assert decision.report.as_json()["already_applied"] is True


def test_named_classes_reuse_the_ids_the_school_already_has() -> None:
    state = given(*imported(snapshot()))
    by_name = Snapshot(
        source="csv",
        year_groups={"year-3": YearGroup("year-3", "YEAR 3")},
        classes={
            "ash": SchoolClass("ash", "Ash", "year-3"),
            "birch-class": SchoolClass("birch-class", "birch", "year-3"),
        },
        pupils={
            "p1": Pupil("p1", "Sam", "Khan", "year-3", "ash"),
            "p2": Pupil("p2", "Sam", "Kelly", "year-3", "ash"),
            "p3": Pupil("p3", "Ada", "Okonkwo", "year-3", "birch-class"),
        },
        match_by_name=True,
    )
    decision = decide_import(state, ImportRoster("i2", "oak", by_name), AS_FILED)
    assert decision.events == []
    assert decision.report.unchanged == 3


# -- what a full import may not do -----------------------------------------------------------

HEAD = StaffMember("head", "Amara Bello", "head@oak.example", StaffRole.leader)
OAK = "org-oak"


def of_school(file: Snapshot, source_id: str = OAK, name: str = "Oakfield Primary") -> Snapshot:
    return replace(file, school_source_id=source_id, school_name=name)


def test_the_api_default_is_a_partial_import() -> None:
    assert ImportRoster("i1", "oak", snapshot()).full is False


def test_a_full_import_never_removes_whoever_asked_for_it_nor_staff_added_by_hand() -> None:
    state = given(
        *imported(snapshot(staff={"t1": TEACHER, "head": HEAD})),
        StaffMemberAdded(
            staff_id="office", display_name="Jo Reed", email="jo@oak.example", role="office"
        ),
    )
    aide = StaffMember("a1", "Priya Patel", "", StaffRole.teaching_assistant)
    file = snapshot(pupils={}, staff={"a1": aide})  # nobody the school knows
    command = ImportRoster("i2", "oak", file, full=True, requested_by="head")
    decision = decide_import(state, command, AS_FILED)
    assert StaffMemberLeft(staff_id="t1") in decision.events
    gone = {e.staff_id for e in decision.events if isinstance(e, StaffMemberLeft)}
    assert gone == {"t1"}
    report = decision.report.as_json()
    assert report["kept"] == [
        {"source_id": None, "staff_id": "office", "reason": "added_by_hand"},
        {"source_id": "head", "staff_id": "head", "reason": "requested_import"},
    ]
    assert report["staff"]["left"] == ["t1"] and report["left"] == 3
    # another leader confirms the import: they stay too
    confirmed = replace(command, applied_by="t1")
    kept = decide_import(state, confirmed, AS_FILED).report.as_json()["kept"]
    assert {"source_id": "t1", "staff_id": "t1", "reason": "requested_import"} in kept


def test_a_full_import_of_another_schools_file_is_refused_naming_that_school() -> None:
    state = given(*imported(snapshot()))
    theirs = of_school(snapshot(pupils={}, staff={}), "org-elm", "Elm Road Primary")
    with pytest.raises(NotThisSchool) as refused:
        decide_import(state, ImportRoster("i2", "oak", theirs, full=True), AS_FILED)
    assert "Elm Road Primary" in refused.value.detail
    assert refused.value.extra["schools"] == [{"source_id": "org-elm", "name": "Elm Road Primary"}]
    assert refused.value.body()["type"].endswith("/wrong-school")
    # the leader says it is theirs (a file that calls the school by another name)
    chosen = ImportRoster("i2", "oak", theirs, full=True, org_chosen=True)
    decision = decide_import(state, chosen, AS_FILED)
    assert decision.report.as_json()["left"] == 3
    assert decision.events[-1] == RosterImported(
        import_id="i2",
        source="oneroster",
        added=0,
        moved=0,
        left=3,
        unchanged=0,
        school_source_id="org-elm",
    )


def test_a_partial_import_of_a_file_naming_another_school_records_nothing_of_it() -> None:
    state = given(*imported(snapshot()))
    theirs = of_school(snapshot(), "org-elm", "Elm Road Primary")
    decision = decide_import(state, ImportRoster("i2", "oak", theirs), AS_FILED)
    assert decision.events == []
    assert decision.report.as_json()["school"]["recorded"] is False


def test_the_schools_own_file_records_its_id_and_then_only_that_id_is_taken() -> None:
    state = given(*imported(snapshot()))
    own = of_school(snapshot(), OAK, " oakfield  PRIMARY ")  # the name, spaced and cased
    decision = decide_import(state, ImportRoster("i2", "oak", own, full=True), AS_FILED)
    # nothing else changed, yet the school's id is recorded once
    assert decision.events == [
        RosterImported(
            import_id="i2",
            source="oneroster",
            added=0,
            moved=0,
            left=0,
            unchanged=3,
            school_source_id=OAK,
        )
    ]
    state = given(*imported(snapshot()), *decision.events)
    assert state.source_id == OAK
    again = decide_import(state, ImportRoster("i3", "oak", own, full=True), AS_FILED)
    assert again.events == []  # recorded already: nothing to append
    renamed = of_school(snapshot(), "org-other", "Oakfield Primary")
    for full in (True, False):
        with pytest.raises(NotThisSchool):
            decide_import(state, ImportRoster("i4", "oak", renamed, full=full), AS_FILED)


def test_a_first_import_registers_and_records_the_school_of_the_file() -> None:
    decision = decide_import(
        initial_state(), ImportRoster("i1", "oak", of_school(snapshot())), AS_FILED
    )
    assert isinstance(decision.events[-1], RosterImported)
    assert decision.events[-1].school_source_id == OAK
    assert decision.report.as_json()["school"] == {
        "source_id": OAK,
        "name": "Oakfield Primary",
        "registered": True,
        "details_changed": False,
        "recorded": True,
    }


def test_a_version_1_roster_imported_loads_with_no_school_id() -> None:
    stored = json.dumps(
        {"import_id": "i1", "source": "csv", "added": 1, "moved": 0, "left": 0, "unchanged": 0}
    )
    event = registry.decode("RosterImported", 1, stored, where="roster-oak@1")
    assert isinstance(event, RosterImported) and event.school_source_id is None


# -- what the report says ----------------------------------------------------------------------


def test_the_report_carries_the_files_warnings_and_skipped_rows() -> None:
    warnings = tuple(RowWarning("users.csv", n, "no class") for n in range(250, 0, -1))
    file = replace(of_school(snapshot()), warnings=warnings, skipped={"guardians": 4})
    report = decide_import(initial_state(), ImportRoster("i1", "oak", file), AS_FILED).report
    preview = report.as_json(dry_run=True)
    assert preview["dry_run"] is True and report.as_json()["dry_run"] is False
    assert preview["warnings_count"] == 250
    assert len(preview["warnings"]) == 200
    assert preview["warnings"][0] == {"file": "users.csv", "line": 1, "reason": "no class"}
    assert preview["skipped"] == {"guardians": 4}


def test_moved_counts_only_pupils_whose_class_changed() -> None:
    y4 = YearGroup("y4", "Year 4")
    state = given(*imported(snapshot()), YearGroupAdded(year_group_id="y4", name="Year 4"))
    # Sam Khan stays in Ash, a mixed-age class, but is now in Year 4
    regrouped = {**PUPILS, "p1": Pupil("p1", "Sam", "Khan", "y4", "ash")}
    file = replace(snapshot(regrouped), year_groups={"y3": Y3, "y4": y4})
    decision = decide_import(state, ImportRoster("i2", "oak", file), AS_FILED)
    assert (
        PupilMovedClass(pupil_id="p1", from_class_id="ash", to_class_id="ash", year_group_id="y4")
        in decision.events
    )
    report = decision.report.as_json()
    assert report["moved"] == 0 and report["pupils"]["moved"] == []
    assert report["pupils"]["regrouped"] == ["p1"]


def test_a_year_group_the_school_renamed_keeps_the_schools_name() -> None:
    state = given(*imported(snapshot()), YearGroupRenamed(year_group_id="y3", name="Owls"))
    decision = decide_import(state, ImportRoster("i2", "oak", snapshot()), AS_FILED)
    assert decision.events == []
    # and a file naming it, with no id the school knows, finds it by name: no second Year 3
    by_name = Snapshot(
        source="oneroster",
        year_groups={"grade-03": YearGroup("grade-03", "Owls")},
        classes={"ash": SchoolClass("ash", "Ash", "grade-03")},
        pupils={"p1": Pupil("p1", "Sam", "Khan", "grade-03", "ash")},
    )
    assert decide_import(state, ImportRoster("i3", "oak", by_name), AS_FILED).events == []


# -- deltas ------------------------------------------------------------------------------------


def delta(**changes: object) -> Snapshot:
    empty = Snapshot(
        source="oneroster", year_groups={}, classes={}, pupils={}, staff={}, delta=True
    )
    return replace(empty, **changes)  # type: ignore[arg-type]


def test_a_delta_changes_what_it_names_and_leaves_what_it_does_not() -> None:
    state = given(*imported(snapshot()))
    file = delta(
        pupils={
            "p1": Pupil("p1", "Samuel", "Khan", "", ""),  # renamed, class not said: stays
            "p2": Pupil("p2", "Sam", "Kelly", "y3", "birch"),  # into a class it does not list
            "p9": Pupil("p9", "Noor", "Aziz", "", "ash"),  # new, in an existing class
            "p8": Pupil("p8", "Lena", "Vogel", "", ""),  # new, in no class: not added
        },
        removed_pupils=frozenset({"p3"}),
        removed_classes=frozenset({"birch", "gone"}),
    )
    decision = decide_import(state, ImportRoster("i2", "oak", file, full=True), AS_FILED)
    assert decision.events[:-1] == [
        PupilDetailsChanged(pupil_id="p1", first_name="Samuel", surname="Khan"),
        PupilMovedClass(
            pupil_id="p2", from_class_id="ash", to_class_id="birch", year_group_id="y3"
        ),
        PupilEnrolled(
            pupil_id="p9",
            first_name="Noor",
            surname="Aziz",
            year_group_id="y3",
            class_id="ash",
            source_id="p9",
        ),
        PupilLeft(pupil_id="p3", class_id="birch"),
    ]
    report = decision.report.as_json()
    assert report["pupils"]["unplaced"] == ["p8"]
    assert report["classes"]["removed"] == ["birch"]  # reported; the class stays
    assert report["staff"]["left"] == []  # the teacher is not in the delta, and stays


def test_a_delta_removes_the_staff_it_marks_deleted_but_never_the_importer() -> None:
    state = given(*imported(snapshot(staff={"t1": TEACHER, "head": HEAD})))
    file = delta(
        staff={"t1": replace(TEACHER, class_ids=frozenset({"birch"}))},
        removed_staff=frozenset({"head", "nobody"}),
    )
    decision = decide_import(state, ImportRoster("i2", "oak", file, requested_by="head"), AS_FILED)
    # a delta's enrolment adds a class; it does not take away those it does not mention
    assert decision.events[:-1] == [StaffAssignedToClass(staff_id="t1", class_id="birch")]
    assert decision.report.as_json()["kept"] == [
        {"source_id": "head", "staff_id": "head", "reason": "requested_import"}
    ]
    removed = decide_import(
        state, ImportRoster("i3", "oak", delta(removed_staff=frozenset({"head"}))), AS_FILED
    )
    assert removed.events[0] == StaffMemberLeft(staff_id="head")


def test_a_delta_naming_a_class_nobody_has_is_refused() -> None:
    state = given(*imported(snapshot()))
    file = delta(pupils={"p9": Pupil("p9", "Noor", "Aziz", "", "elm")})
    with pytest.raises(UnknownReference, match="pupil p9's class elm"):
        decide_import(state, ImportRoster("i2", "oak", file), AS_FILED)


AUTUMN = Term(name="Autumn", starts=date(2026, 9, 3), ends=date(2026, 12, 18))
SPRING = Term(name="Spring", starts=date(2027, 1, 5), ends=date(2027, 3, 26))


def test_terms_change_only_when_the_leader_asks_and_only_from_the_schools_own_file() -> None:
    state = given(*imported(replace(snapshot(), terms=(AUTUMN,))))  # a file naming no school
    assert state.details is not None and state.details.terms == (AUTUMN,)
    newer = replace(of_school(snapshot()), terms=(AUTUMN, SPRING))

    def changed(command: ImportRoster) -> list[Event]:
        events = decide_import(state, command, AS_FILED).events
        return [e for e in events if isinstance(e, SchoolDetailsChanged)]

    assert changed(ImportRoster("i2", "oak", newer)) == []
    (change,) = changed(ImportRoster("i3", "oak", newer, replace_terms=True))
    assert change.details.terms == (AUTUMN, SPRING)
    theirs = replace(of_school(snapshot(), "org-elm", "Elm Road Primary"), terms=(SPRING,))
    assert changed(ImportRoster("i4", "oak", theirs, replace_terms=True)) == []
