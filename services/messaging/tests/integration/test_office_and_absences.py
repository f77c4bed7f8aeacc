"""The office over real HTTP: the check before sending (office business, other children's
full names), conversations to the office and passed to it, and absences families report
and the office records."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from services.messaging.tests.integration.conftest import School, start


async def checked(
    client: httpx.AsyncClient, school: School, who: dict[str, str], **body: Any
) -> dict[str, Any]:
    before = school.service.newest_position()
    answer = await client.post(school.path("/messaging/check"), headers=who, json=body)
    assert answer.status_code == 200, answer.text
    assert school.service.newest_position() == before  # a check writes nothing
    found: dict[str, Any] = answer.json()
    return found


async def conversation_ids(client: httpx.AsyncClient, school: School, who: dict[str, str]) -> set:
    inbox = await client.get(school.path("/conversations"), headers=who)
    assert inbox.status_code == 200, inbox.text
    return {c["conversation_id"] for c in inbox.json()["conversations"]}


async def test_the_check_points_families_to_the_office_and_warns_of_other_childrens_names(
    client: httpx.AsyncClient, school: School
) -> None:
    sick = "Ada is off sick today with a temperature"
    found = await checked(client, school, school.parent("ada"), text=sick, to="class")
    assert found["office_matter"]["matter"] == "sickness"
    assert found["office_matter"]["matched"]
    office = await checked(client, school, school.parent("ada"), text=sick, to="office")
    assert office["office_matter"] is None
    staff = await checked(client, school, school.teacher, text=sick, to="class")
    assert staff["office_matter"] is None

    named = await checked(
        client,
        school,
        school.parent("ada"),
        text="Ben Okri was unkind to Ada Lovelace at lunch",
        pupil_id=school.p("ada"),
    )
    assert named["full_names"] == [{"pupil_id": school.p("ben"), "name": "Ben Okri"}]
    assert named["office_matter"] is None
    first_names = await checked(client, school, school.parent("ada"), text="Ben was unkind")
    assert first_names["full_names"] == []


async def test_a_conversation_with_the_office_is_the_offices_not_the_class(
    client: httpx.AsyncClient, school: School
) -> None:
    started = await start(
        client, school, school.parent("ada"), text="Can I pay for dinners by card?", to="office"
    )
    assert started["inbox"] == "office"
    conversation = started["conversation_id"]
    assert conversation in await conversation_ids(client, school, school.office)
    assert conversation not in await conversation_ids(client, school, school.teacher)
    for staff in (school.teacher, school.assistant):
        path = school.path(f"/conversations/{conversation}")
        assert (await client.get(path, headers=staff)).status_code == 404


async def test_a_teacher_passes_a_conversation_to_the_office_and_the_family_sees_where_it_went(
    client: httpx.AsyncClient, school: School
) -> None:
    started = await start(client, school, school.parent("ada"), text="Ada needs a new jumper")
    conversation = started["conversation_id"]
    path = school.path(f"/conversations/{conversation}")
    assert (await client.get(path, headers=school.office)).status_code == 404
    assert conversation not in await conversation_ids(client, school, school.office)
    passed = await client.post(
        f"{path}/pass",
        headers=school.teacher,
        json={"to": "office", "note": "The office sells uniform"},
    )
    assert passed.status_code == 200, passed.text
    assert passed.json()["inbox"] == "office"
    await school.service.projected(passed)

    family = (await client.get(path, headers=school.parent("ada"))).json()
    assert [(p["to"], p["note"]) for p in family["passes"]] == [
        ("office", "The office sells uniform")
    ]
    assert family["inbox"] == "office"
    assert conversation in await conversation_ids(client, school, school.office)
    assert conversation not in await conversation_ids(client, school, school.teacher)
    assert (await client.get(path, headers=school.teacher)).status_code == 404
    office = (await client.get(path, headers=school.office)).json()
    assert office["may_write"] and [m["text"] for m in office["messages"]] == [
        "Ada needs a new jumper"
    ]


def absence(school: School, pupil: str = "ada", **changes: Any) -> dict[str, Any]:
    today = date.today()
    return {
        "pupil_id": school.p(pupil),
        "first_day": str(today + timedelta(days=1)),
        "last_day": str(today + timedelta(days=2)),
        "reason": "sickness",
        "note": "Chickenpox",
        **changes,
    }


async def test_a_parent_reports_an_absence_and_the_office_records_it(
    client: httpx.AsyncClient, school: School
) -> None:
    reported = await client.post(
        school.path("/absences"), headers=school.parent("ada"), json=absence(school)
    )
    assert reported.status_code == 201, reported.text
    await school.service.projected(reported)
    absence_id = reported.json()["absence_id"]

    waiting = await client.get(school.path("/absences?status=reported"), headers=school.office)
    [row] = waiting.json()
    assert (row["absence_id"], row["pupil_name"], row["reason"], row["note"]) == (
        absence_id,
        "Ada",
        "sickness",
        "Chickenpox",
    )
    assert row["first_day"] == absence(school)["first_day"]
    assert (await client.get(school.path("/absences"), headers=school.parent("ben"))).json() == []
    assert (await client.get(school.path("/absences"), headers=school.teacher)).status_code == 403

    recorded = await client.post(
        school.path(f"/absences/{absence_id}/record"), headers=school.office
    )
    assert recorded.status_code == 200, recorded.text
    await school.service.projected(recorded)
    assert (
        await client.get(school.path("/absences?status=reported"), headers=school.office)
    ).json() == []
    [mine] = (await client.get(school.path("/absences"), headers=school.parent("ada"))).json()
    assert mine["status"] == "recorded"


@pytest.mark.parametrize(
    ("who", "changes", "status"),
    [
        ("ada", {"last_day": str(date.today() - timedelta(days=1))}, 422),  # before the first
        ("ada", {"last_day": str(date.today() + timedelta(days=90))}, 422),  # too long
        ("ada", {"first_day": "2020-01-06", "last_day": "2020-01-07"}, 422),  # long past
        ("ada", {"first_day": "not a day"}, 422),
        ("ada", {"reason": "holiday in Spain"}, 422),
        ("ada", {"pupil_id": "../ada"}, 422),
        ("ada", {"extra": "field"}, 422),
        ("ben", {}, 403),  # another family cannot report Ada away
    ],
    ids=["backwards", "too-long", "long-past", "not-a-day", "reason", "bad-id", "extra", "other"],
)
async def test_a_bad_absence_report_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, school: School, who: str, changes: dict[str, Any], status: int
) -> None:
    before = school.service.newest_position()
    answer = await client.post(
        school.path("/absences"), headers=school.parent(who), json=absence(school, **changes)
    )
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert school.service.newest_position() == before
