"""Given a roster, when a whole school's file is imported, then the events that make them
agree, and a report of what changed. No I/O."""

from __future__ import annotations

from schoolgate_contracts import Event
from schoolgate_contracts.roster import (
    ClassAdded,
    ClassDetailsChanged,
    PupilDetailsChanged,
    PupilEnrolled,
    PupilLeft,
    PupilMovedClass,
    RosterImported,
    SchoolDetails,
    SchoolRegistered,
    StaffAssignedToClass,
    StaffMemberLeft,
    StaffRole,
    StaffRoleChanged,
    StaffUnassignedFromClass,
    YearGroupAdded,
)
from schoolgate_roster.domain import (
    ImportRoster,
    Pupil,
    Roster,
    SchoolClass,
    Snapshot,
    StaffMember,
    YearGroup,
    decide_import,
    evolve,
    initial_state,
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
    decision = decide_import(state, ImportRoster("i2", "oak", snapshot(later)), AS_FILED)
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
        state, ImportRoster("i2", "oak", snapshot(staff={"t1": promoted})), AS_FILED
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
    decision = decide_import(state, ImportRoster("i1", "oak", snapshot({})), AS_FILED)
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
