"""Given a school's roster, when a leader changes staff, year groups, classes or values by
hand, then new events (or an error). No I/O."""

from __future__ import annotations

import json

import pytest
from schoolgate_contracts import Event, registry
from schoolgate_contracts.roster import (
    ClassAdded,
    ClassDetailsChanged,
    PupilEnrolled,
    PupilLeft,
    PupilMovedClass,
    SchoolDetails,
    SchoolRegistered,
    SchoolWayAdded,
    SchoolWayChanged,
    SchoolWayRetired,
    StaffAssignedToClass,
    StaffMemberAdded,
    StaffMemberLeft,
    StaffRole,
    StaffRoleChanged,
    StaffUnassignedFromClass,
    YearGroupAdded,
    YearGroupRenamed,
)
from schoolgate_roster.domain import (
    AddSchoolWay,
    ChangeClass,
    ChangeSchoolWay,
    ChangeStaffMember,
    ChangingYourOwnRole,
    EntryNotFound,
    LastLeader,
    NameTaken,
    RenameYearGroup,
    Roster,
    SchoolNotFound,
    SchoolWayRetiredAlready,
    StaffHasLeft,
    UnknownReference,
    decide,
    evolve,
    initial_state,
)

SCHOOL = (
    SchoolRegistered(school_id="oak", details=SchoolDetails(name="Oakfield Primary")),
    YearGroupAdded(year_group_id="y3", name="Year 3"),
    YearGroupAdded(year_group_id="y4", name="Year 4"),
    ClassAdded(class_id="ash", name="Ash", year_group_id="y3"),
    ClassAdded(class_id="elm", name="Elm", year_group_id="y4"),
    StaffMemberAdded(staff_id="head", display_name="Mrs Okafor", email="h@x", role="leader"),
    StaffMemberAdded(staff_id="t1", display_name="Mr Price", email="p@x", role="teacher"),
    StaffAssignedToClass(staff_id="t1", class_id="ash"),
    SchoolWayAdded(school_way_id="w1", name="Kindness", icon="heart", colour="red"),
    SchoolWayAdded(school_way_id="w2", name="Courage"),
)


def given(*events: Event) -> Roster:
    state = initial_state()
    for event in events:
        state = evolve(state, event)
    return state


def test_a_teacher_gets_another_class_and_loses_theirs() -> None:
    command = ChangeStaffMember("t1", StaffRole.teacher, frozenset({"elm"}), by="head")
    assert decide(given(*SCHOOL), command) == [
        StaffAssignedToClass(staff_id="t1", class_id="elm"),
        StaffUnassignedFromClass(staff_id="t1", class_id="ash"),
    ]


def test_a_new_role_and_the_same_classes_is_one_event_and_again_none() -> None:
    command = ChangeStaffMember("t1", StaffRole.leader, frozenset({"ash"}), by="head")
    events = decide(given(*SCHOOL), command)
    assert events == [StaffRoleChanged(staff_id="t1", role=StaffRole.leader)]
    assert decide(given(*SCHOOL, *events), command) == []


def test_nobody_changes_their_own_role_but_may_take_a_class() -> None:
    with pytest.raises(ChangingYourOwnRole):
        decide(given(*SCHOOL), ChangeStaffMember("head", StaffRole.teacher, frozenset(), "head"))
    mine = ChangeStaffMember("head", StaffRole.leader, frozenset({"ash"}), by="head")
    assert decide(given(*SCHOOL), mine) == [StaffAssignedToClass(staff_id="head", class_id="ash")]


@pytest.mark.parametrize(
    ("command", "error"),
    [
        (ChangeStaffMember("nobody", StaffRole.teacher, frozenset(), "head"), EntryNotFound),
        (ChangeStaffMember("t1", StaffRole.teacher, frozenset({"oak"}), "head"), UnknownReference),
        (RenameYearGroup("y9", "Year 9"), EntryNotFound),
        (RenameYearGroup("y3", " year  4 "), NameTaken),
        (ChangeClass("oak", "Oak", "y3"), EntryNotFound),
        (ChangeClass("ash", "Ash", "y9"), UnknownReference),
        (ChangeClass("ash", "ELM", "y4"), NameTaken),
        (ChangeSchoolWay("w9", "Honesty"), EntryNotFound),
        (ChangeSchoolWay("w2", "kindness"), NameTaken),
    ],
    ids=[
        "staff-unknown",
        "staff-class-unknown",
        "year-group-unknown",
        "year-group-name-taken",
        "class-unknown",
        "class-year-group-unknown",
        "class-name-taken-in-year-group",
        "value-unknown",
        "value-name-taken",
    ],
)
def test_what_the_school_does_not_have_or_has_already_is_refused(
    command: object, error: type[Exception]
) -> None:
    with pytest.raises(error):
        decide(given(*SCHOOL), command)  # type: ignore[arg-type]


def test_a_member_of_staff_who_left_keeps_their_role() -> None:
    state = given(*SCHOOL, StaffMemberLeft(staff_id="t1"))
    with pytest.raises(StaffHasLeft):
        decide(state, ChangeStaffMember("t1", StaffRole.leader, frozenset(), by="head"))


def test_a_year_group_and_a_class_are_renamed_and_moved() -> None:
    assert decide(given(*SCHOOL), RenameYearGroup("y3", "Year Three")) == [
        YearGroupRenamed(year_group_id="y3", name="Year Three")
    ]
    assert decide(given(*SCHOOL), RenameYearGroup("y3", "Year 3")) == []
    # a class of the same name in another year group is another class
    moved = decide(given(*SCHOOL), ChangeClass("ash", "Ash", "y4"))
    assert moved == [ClassDetailsChanged(class_id="ash", name="Ash", year_group_id="y4")]
    assert given(*SCHOOL, *moved).classes["ash"].year_group_id == "y4"


def test_a_class_moved_to_another_year_group_takes_its_pupils() -> None:
    ada = PupilEnrolled(
        pupil_id="p1", first_name="Ada", surname="Okafor", year_group_id="y3", class_id="ash"
    )
    # a mixed-age class: Ben is a year older than his class, and stays so
    ben = PupilEnrolled(
        pupil_id="p2", first_name="Ben", surname="Price", year_group_id="y4", class_id="ash"
    )
    cy = PupilEnrolled(
        pupil_id="p3", first_name="Cy", surname="Nowak", year_group_id="y3", class_id="ash"
    )
    state = given(*SCHOOL, ada, ben, cy, PupilLeft(pupil_id="p3", class_id="ash"))
    assert decide(state, ChangeClass("ash", "Ash", "y4")) == [
        ClassDetailsChanged(class_id="ash", name="Ash", year_group_id="y4"),
        PupilMovedClass(pupil_id="p1", from_class_id="ash", to_class_id="ash", year_group_id="y4"),
    ]
    assert decide(state, ChangeClass("ash", "Ash class", "y3")) == [
        ClassDetailsChanged(class_id="ash", name="Ash class", year_group_id="y3")
    ]


def test_a_value_gets_a_new_name_icon_and_colour() -> None:
    command = ChangeSchoolWay("w2", "Bravery", "Trying hard things", icon="shield", colour="blue")
    events = decide(given(*SCHOOL), command)
    assert events == [
        SchoolWayChanged(
            school_way_id="w2",
            name="Bravery",
            description="Trying hard things",
            icon="shield",
            colour="blue",
        )
    ]
    way = given(*SCHOOL, *events).school_ways["w2"]
    assert (way.name, way.icon, way.colour) == ("Bravery", "shield", "blue")
    assert decide(given(*SCHOOL, *events), command) == []


def test_a_retired_value_is_not_changed_and_its_name_may_be_used_again() -> None:
    state = given(*SCHOOL, SchoolWayRetired(school_way_id="w1"))
    with pytest.raises(SchoolWayRetiredAlready):
        decide(state, ChangeSchoolWay("w1", "Kindness", icon="star"))
    assert decide(state, ChangeSchoolWay("w2", "Kindness")) != []


def test_a_value_is_added_with_its_look_and_a_retry_changes_nothing() -> None:
    command = AddSchoolWay("w3", "Teamwork", icon="hands", colour="green")
    [added] = decide(given(*SCHOOL), command)
    assert added == SchoolWayAdded(
        school_way_id="w3", name="Teamwork", icon="hands", colour="green"
    )
    assert decide(given(*SCHOOL, added), command) == []


def test_nothing_changes_at_a_school_not_registered() -> None:
    with pytest.raises(SchoolNotFound):
        decide(given(), RenameYearGroup("y3", "Year 3"))


def test_a_school_registered_before_holidays_were_named_has_none() -> None:
    stored_v1 = json.dumps({"school_id": "oak", "details": {"name": "Oakfield Primary"}})
    event = registry.decode("SchoolRegistered", 1, stored_v1, where="roster-oak version 0")
    assert isinstance(event, SchoolRegistered)
    assert (event.details.terms, event.details.holidays) == ((), ())


def test_a_value_added_before_looks_were_chosen_has_none() -> None:
    stored_v1 = json.dumps({"school_way_id": "w1", "name": "Kindness", "description": ""})
    event = registry.decode("SchoolWayAdded", 1, stored_v1, where="roster-oak version 1")
    assert event == SchoolWayAdded(school_way_id="w1", name="Kindness")


def test_the_last_leader_stays_a_leader_until_there_is_another() -> None:
    # an admin may change a leader's role, but never leave the school with no leader
    demote = ChangeStaffMember("head", StaffRole.teacher, frozenset(), by="admin")
    with pytest.raises(LastLeader):
        decide(given(*SCHOOL), demote)
    promoted = given(*SCHOOL, StaffRoleChanged(staff_id="t1", role=StaffRole.leader))
    assert decide(promoted, demote) == [StaffRoleChanged(staff_id="head", role=StaffRole.teacher)]
