"""Given recorded roster events, the read-model documents they make. No I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from schoolgate_contracts import Event, Metadata, RecordedEvent
from schoolgate_contracts.roster import (
    PupilAvatarChosen,
    PupilDetailsChanged,
    PupilEnrolled,
    PupilLeft,
    PupilMovedClass,
    Retention,
    RetentionSet,
    SchoolDetails,
    SchoolDetailsChanged,
    SchoolRegistered,
    StaffAssignedToClass,
    StaffMemberAdded,
    StaffMemberLeft,
    StaffRole,
    StaffUnassignedFromClass,
)
from schoolgate_kit.projections import Projection, fold, strip
from schoolgate_roster.projections import pupils, schools, staff


def recorded(events: list[tuple[str, Event]]) -> list[RecordedEvent]:
    """Events of several schools, as the store hands them to a projection."""
    return [
        RecordedEvent(
            event_id=uuid.uuid4(),
            stream=f"roster-{school}",
            version=n,
            position=n + 1,
            recorded_at=datetime(2026, 9, 1, tzinfo=UTC),
            metadata=Metadata(
                occurred_at=datetime(2026, 9, 1, tzinfo=UTC),
                school_id=school,
                actor="head",
                correlation_id="c",
            ),
            event=event,
        )
        for n, (school, event) in enumerate(events)
    ]


def docs(projection: Projection, events: list[tuple[str, Event]]) -> dict[str, object]:
    ours = [e for e in recorded(events) if isinstance(e.event, projection.handles)]
    return {k: strip(v) for k, v in fold(projection, {}, ours).items()}


ADA = PupilEnrolled(
    pupil_id="p1", first_name="Ada", surname="Okonkwo", year_group_id="y3", class_id="ash"
)


def test_a_pupils_document_follows_them_and_stays_when_they_leave() -> None:
    found = docs(
        pupils,
        [
            ("oak", ADA),
            ("elm", ADA),  # another school's pupil with the same id is another document
            ("oak", PupilDetailsChanged(pupil_id="p1", first_name="Adaeze", surname="Okonkwo")),
            (
                "oak",
                PupilMovedClass(
                    pupil_id="p1", from_class_id="ash", to_class_id="cedar", year_group_id="y4"
                ),
            ),
            ("oak", PupilLeft(pupil_id="p1", class_id="cedar")),
        ],
    )
    assert found["oak:p1"] == {
        "school_id": "oak",
        "pupil_id": "p1",
        "first_name": "Adaeze",
        "surname": "Okonkwo",
        "year_group_id": "y4",
        "class_id": "cedar",
        "avatar": None,
        "status": "left",
        "source_id": None,
        "left_at": "2026-09-01T00:00:00+00:00",  # when the school's retention counts from
    }
    elm = found["elm:p1"]
    assert isinstance(elm, dict) and elm["status"] == "on_roll" and elm["school_id"] == "elm"


def test_a_pupils_chosen_monster_is_in_their_document() -> None:
    found = docs(pupils, [("oak", ADA), ("oak", PupilAvatarChosen(pupil_id="p1", avatar="b7"))])
    doc = found["oak:p1"]
    assert isinstance(doc, dict) and doc["avatar"] == "b7"


def test_a_staff_document_keeps_their_classes_until_they_leave() -> None:
    added = StaffMemberAdded(
        staff_id="t1", display_name="Grace Okafor", email="g@oak.example", role=StaffRole.teacher
    )
    found = docs(
        staff,
        [
            ("oak", added),
            ("oak", StaffAssignedToClass(staff_id="t1", class_id="cedar")),
            ("oak", StaffAssignedToClass(staff_id="t1", class_id="ash")),
            ("oak", StaffUnassignedFromClass(staff_id="t1", class_id="cedar")),
        ],
    )
    assert found["oak:t1"] == {
        "school_id": "oak",
        "staff_id": "t1",
        "display_name": "Grace Okafor",
        "email": "g@oak.example",
        "role": "teacher",
        "class_ids": ["ash"],
        "status": "active",
        "source_id": None,
    }
    gone = docs(staff, [("oak", added), ("oak", StaffMemberLeft(staff_id="t1"))])["oak:t1"]
    assert isinstance(gone, dict) and (gone["status"], gone["class_ids"]) == ("left", [])


def test_a_schools_document_holds_its_time_rules() -> None:
    found = docs(
        schools,
        [("oak", SchoolRegistered(school_id="oak", details=SchoolDetails(name="Oakfield")))],
    )
    assert found["oak"] == {
        "school_id": "oak",
        "name": "Oakfield",
        "timezone": "Europe/London",
        "working_days": [0, 1, 2, 3, 4],
        "day_starts": "08:00:00",
        "day_ends": "17:00:00",
        "week_start": 0,
        "retention": {
            "leavers_kept_days": None,
            "points_kept_months": 12,
            "messages_kept_months": 24,
        },
        "terms": [],
        "holidays": [],
    }


def test_a_schools_retention_outlasts_a_change_of_its_details() -> None:
    chosen = Retention(leavers_kept_days=30, points_kept_months=6)
    found = docs(
        schools,
        [
            ("oak", SchoolRegistered(school_id="oak", details=SchoolDetails(name="Oakfield"))),
            ("oak", RetentionSet(retention=chosen, set_by="head")),
            ("oak", SchoolDetailsChanged(school_id="oak", details=SchoolDetails(name="Oak Park"))),
        ],
    )
    doc = found["oak"]
    assert isinstance(doc, dict) and doc["name"] == "Oak Park"
    assert doc["retention"] == chosen.model_dump(mode="json")
