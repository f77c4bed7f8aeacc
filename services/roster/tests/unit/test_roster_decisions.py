"""Given past roster events, when a command, then new events (or an error). No I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import time

import pytest
from schoolgate_contracts import Event
from schoolgate_contracts.roster import (
    ClassAdded,
    PupilAvatarChosen,
    PupilEnrolled,
    PupilLeft,
    PupilMovedClass,
    SchoolDetails,
    SchoolDetailsChanged,
    SchoolRegistered,
    SchoolWayAdded,
    SchoolWayRetired,
    StaffAssignedToClass,
    StaffMemberAdded,
    StaffRole,
    YearGroupAdded,
)
from schoolgate_roster.domain import (
    AddClass,
    AddSchoolWay,
    AddStaffMember,
    AddYearGroup,
    ChooseAvatar,
    EnrolPupil,
    EntryNotFound,
    IdTaken,
    MarkPupilLeft,
    MovePupil,
    PupilHasLeft,
    RegisterSchool,
    RetireSchoolWay,
    Roster,
    SchoolNotFound,
    UnknownReference,
    decide,
    evolve,
    initial_state,
    roster_stream,
)

DETAILS = SchoolDetails(name="Oakfield Primary")
REGISTERED = SchoolRegistered(school_id="oak", details=DETAILS)
YEAR_3 = YearGroupAdded(year_group_id="y3", name="Year 3")
YEAR_4 = YearGroupAdded(year_group_id="y4", name="Year 4")
ASH = ClassAdded(class_id="ash", name="Ash", year_group_id="y3")
CEDAR = ClassAdded(class_id="cedar", name="Cedar", year_group_id="y4")
ADA = PupilEnrolled(
    pupil_id="p1", first_name="Ada", surname="Okonkwo", year_group_id="y3", class_id="ash"
)
SCHOOL = (REGISTERED, YEAR_3, YEAR_4, ASH, CEDAR)


def given(*events: Event) -> Roster:
    state = initial_state()
    for event in events:
        state = evolve(state, event)
    return state


def test_one_stream_holds_a_whole_school() -> None:
    assert roster_stream("oak") == "roster-oak"


def test_a_new_school_is_registered_with_monday_to_friday_eight_to_five() -> None:
    [event] = decide(given(), RegisterSchool("oak", DETAILS))
    assert event == REGISTERED
    assert event.details.working_days == (0, 1, 2, 3, 4)
    assert (event.details.day_starts, event.details.day_ends) == (time(8), time(17))
    assert event.details.timezone == "Europe/London"


def test_registering_again_with_the_same_details_changes_nothing() -> None:
    assert decide(given(REGISTERED), RegisterSchool("oak", DETAILS)) == []


def test_new_details_for_a_registered_school_are_a_change() -> None:
    later = DETAILS.model_copy(update={"day_ends": time(16, 30)})
    assert decide(given(REGISTERED), RegisterSchool("oak", later)) == [
        SchoolDetailsChanged(school_id="oak", details=later)
    ]


def test_nothing_is_added_to_a_school_that_is_not_registered() -> None:
    with pytest.raises(SchoolNotFound):
        decide(given(), AddYearGroup("y3", "Year 3"))


def test_a_year_group_is_added_once() -> None:
    assert decide(given(REGISTERED), AddYearGroup("y3", "Year 3")) == [YEAR_3]
    # sent again with another fresh id: the school has a Year 3 already
    assert decide(given(REGISTERED, YEAR_3), AddYearGroup("yg-2", "year  3")) == []
    assert decide(given(REGISTERED, YEAR_3), AddYearGroup("yg-2", "Year 4")) == [
        YearGroupAdded(year_group_id="yg-2", name="Year 4")
    ]


def test_a_source_id_finds_what_has_it_and_is_not_reused_for_something_else() -> None:
    filed = YearGroupAdded(year_group_id="y3", name="Year 3", source_id="Y3")
    assert decide(given(REGISTERED), AddYearGroup("y3", "Year 3", "Y3")) == [filed]
    assert decide(given(REGISTERED, filed), AddYearGroup("yg-2", "Year 3", "Y3")) == []
    with pytest.raises(IdTaken):
        decide(given(REGISTERED, filed), AddYearGroup("yg-2", "Year Three", "Y3"))


def test_a_class_needs_a_year_group_the_school_has() -> None:
    assert decide(given(REGISTERED, YEAR_3), AddClass("ash", "Ash", "y3")) == [ASH]
    with pytest.raises(UnknownReference):
        decide(given(REGISTERED), AddClass("ash", "Ash", "y3"))
    assert decide(given(REGISTERED, YEAR_3, ASH), AddClass("cls-2", "Ash", "y3")) == []
    filed = ClassAdded(class_id="ash", name="Ash", year_group_id="y3", source_id="3A")
    with pytest.raises(IdTaken):
        decide(given(REGISTERED, YEAR_3, filed), AddClass("cls-2", "Birch", "y3", "3A"))


def test_a_pupil_is_enrolled_in_their_class_and_its_year_group() -> None:
    command = EnrolPupil("p1", "Ada", "Okonkwo", class_id="ash")
    assert decide(given(*SCHOOL), command) == [ADA]
    assert decide(given(*SCHOOL, ADA), command) == []  # sent again: already done


def test_a_source_id_in_use_by_someone_else_is_refused() -> None:
    filed = EnrolPupil("p1", "Ada", "Okonkwo", class_id="ash", source_id="A123")
    (ada,) = decide(given(*SCHOOL), filed)
    assert decide(given(*SCHOOL, ada), replace(filed, pupil_id="p9")) == []  # a retry
    with pytest.raises(IdTaken):
        decide(
            given(*SCHOOL, ada), EnrolPupil("p2", "Sam", "Khan", class_id="ash", source_id="A123")
        )


def test_two_pupils_without_source_ids_are_two_pupils() -> None:
    (sam,) = decide(given(*SCHOOL), EnrolPupil("p1", "Sam", "Lee", class_id="ash"))
    (other,) = decide(given(*SCHOOL, sam), EnrolPupil("p2", "Sam", "Lee", class_id="ash"))
    assert isinstance(other, PupilEnrolled) and other.pupil_id == "p2"


def test_a_pupil_needs_a_class_the_school_has() -> None:
    with pytest.raises(UnknownReference):
        decide(given(*SCHOOL), EnrolPupil("p1", "Ada", "Okonkwo", class_id="oak"))


def test_a_pupil_who_left_can_be_enrolled_again() -> None:
    left = PupilLeft(pupil_id="p1", class_id="ash")
    [event] = decide(given(*SCHOOL, ADA, left), EnrolPupil("p1", "Ada", "Okonkwo", "cedar"))
    assert isinstance(event, PupilEnrolled)
    assert (event.class_id, event.year_group_id) == ("cedar", "y4")


def test_moving_a_pupil_takes_the_new_classs_year_group() -> None:
    assert decide(given(*SCHOOL, ADA), MovePupil("p1", "cedar")) == [
        PupilMovedClass(pupil_id="p1", from_class_id="ash", to_class_id="cedar", year_group_id="y4")
    ]
    assert decide(given(*SCHOOL, ADA), MovePupil("p1", "ash")) == []


def test_a_pupil_who_left_is_not_moved() -> None:
    with pytest.raises(PupilHasLeft):
        decide(
            given(*SCHOOL, ADA, PupilLeft(pupil_id="p1", class_id="ash")), MovePupil("p1", "cedar")
        )


def test_a_pupil_leaves_once_and_their_record_stays() -> None:
    left = PupilLeft(pupil_id="p1", class_id="ash")
    assert decide(given(*SCHOOL, ADA), MarkPupilLeft("p1")) == [left]
    state = given(*SCHOOL, ADA, left)
    assert decide(state, MarkPupilLeft("p1")) == []
    assert state.pupils["p1"].on_roll is False
    assert state.pupils["p1"].first_name == "Ada"


def test_staff_join_with_their_role_and_classes() -> None:
    command = AddStaffMember(
        "t1", "Grace Okafor", "g@oak.example", StaffRole.teacher, frozenset({"ash", "cedar"})
    )
    assert decide(given(*SCHOOL), command) == [
        StaffMemberAdded(
            staff_id="t1",
            display_name="Grace Okafor",
            email="g@oak.example",
            role=StaffRole.teacher,
        ),
        StaffAssignedToClass(staff_id="t1", class_id="ash"),
        StaffAssignedToClass(staff_id="t1", class_id="cedar"),
    ]
    state = given(*SCHOOL, *decide(given(*SCHOOL), command))
    assert state.staff["t1"].class_ids == {"ash", "cedar"}
    assert decide(state, command) == []


def test_staff_are_assigned_only_to_classes_the_school_has() -> None:
    command = AddStaffMember("t1", "Grace", "", StaffRole.teacher, frozenset({"oak"}))
    with pytest.raises(UnknownReference):
        decide(given(*SCHOOL), command)


def test_a_school_way_is_added_then_retired_once() -> None:
    added = SchoolWayAdded(school_way_id="kind", name="Kindness", description="Be kind")
    assert decide(given(REGISTERED), AddSchoolWay("kind", "Kindness", "Be kind")) == [added]
    assert decide(given(REGISTERED, added), RetireSchoolWay("kind")) == [
        SchoolWayRetired(school_way_id="kind")
    ]
    retired = given(REGISTERED, added, SchoolWayRetired(school_way_id="kind"))
    assert decide(retired, RetireSchoolWay("kind")) == []
    assert retired.school_ways["kind"].retired


def test_a_pupil_chooses_their_monster_and_choosing_it_again_changes_nothing() -> None:
    chosen = PupilAvatarChosen(pupil_id="p1", avatar="blue-7")
    assert decide(given(*SCHOOL, ADA), ChooseAvatar("p1", "blue-7")) == [chosen]
    state = given(*SCHOOL, ADA, chosen)
    assert state.pupils["p1"].avatar == "blue-7"
    assert decide(state, ChooseAvatar("p1", "blue-7")) == []
    assert decide(state, ChooseAvatar("p1", "green-2")) == [
        PupilAvatarChosen(pupil_id="p1", avatar="green-2")
    ]


def test_enrolling_a_pupil_again_keeps_the_monster_they_chose() -> None:
    state = given(*SCHOOL, ADA, PupilAvatarChosen(pupil_id="p1", avatar="blue-7"))
    assert decide(state, EnrolPupil("p1", "Ada", "Okonkwo", class_id="ash")) == []
    assert decide(state, EnrolPupil("p1", "Ada", "Okonkwo", "ash", avatar="p1")) == []
    with pytest.raises(IdTaken):
        decide(state, EnrolPupil("p1", "Sam", "Khan", class_id="ash"))


def test_a_monster_is_chosen_only_for_a_pupil_on_roll() -> None:
    with pytest.raises(EntryNotFound):
        decide(given(*SCHOOL), ChooseAvatar("p1", "blue-7"))
    with pytest.raises(PupilHasLeft):
        decide(
            given(*SCHOOL, ADA, PupilLeft(pupil_id="p1", class_id="ash")),
            ChooseAvatar("p1", "blue-7"),
        )
