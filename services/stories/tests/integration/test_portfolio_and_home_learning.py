"""Portfolios and home learning over real HTTP: pupils hand work in, teachers approve or
send it back, and families see approved work only."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from .conftest import School, StoriesService, new_school, photo, upload


@pytest.fixture
async def school(stories: StoriesService) -> School:
    return await new_school(stories)


async def portfolio(
    client: httpx.AsyncClient, school: School, pupil: str, headers: dict[str, str]
) -> httpx.Response:
    return await client.get(school.path(f"/pupils/{school.p(pupil)}/portfolio"), headers=headers)


async def test_work_reaches_the_family_only_once_approved(
    stories: StoriesService, client: httpx.AsyncClient, school: School
) -> None:
    ada = school.pupil("ada")
    drawing = await upload(client, school, ada)
    submitted = await client.post(
        school.path("/portfolio"),
        headers=ada,
        json={"text": "My rocket", "attachments": [photo(drawing)]},
    )
    assert submitted.status_code == 201, submitted.text
    item = submitted.json()
    assert (item["status"], item["pupil_id"], item["class_id"]) == (
        "submitted",
        school.p("ada"),
        "oak",
    )
    item_path = school.path(f"/portfolio/{item['item_id']}")
    await stories.caught_up()

    family = school.parent("ada")
    assert (await portfolio(client, school, "ada", family)).json() == []
    assert (await client.get(school.path(f"/media/{drawing}"), headers=family)).status_code == 404
    queue = await client.get(school.path("/classes/oak/portfolio/queue"), headers=school.assistant)
    assert [i["item_id"] for i in queue.json()] == [item["item_id"]]
    assert (
        await client.get(school.path("/classes/oak/portfolio/queue"), headers=school.ash_teacher)
    ).status_code == 403

    # sent back: the pupil sees why; the family still sees nothing
    assert (
        await client.post(item_path + "/send-back", headers=school.ash_teacher, json={"note": "x"})
    ).status_code == 403
    back = await client.post(
        item_path + "/send-back", headers=school.teacher, json={"note": "Add a title please"}
    )
    assert back.status_code == 200, back.text
    assert (back.json()["status"], back.json()["note"]) == ("sent_back", "Add a title please")
    await stories.caught_up()
    own = (await portfolio(client, school, "ada", ada)).json()
    assert [(i["status"], i["note"]) for i in own] == [("sent_back", "Add a title please")]
    assert (await portfolio(client, school, "ada", family)).json() == []
    assert (
        await client.get(school.path("/classes/oak/portfolio/queue"), headers=school.teacher)
    ).json() == []
    early = await client.post(item_path + "/approve", headers=school.teacher)
    assert early.status_code == 409 and early.json()["type"].endswith("/nothing-to-review")

    # handed in again on the same item, then approved
    again = await client.post(
        school.path("/portfolio"),
        headers=ada,
        json={
            "item_id": item["item_id"],
            "text": "My rocket: to the moon",
            "attachments": [photo(drawing)],
        },
    )
    assert again.status_code == 201, again.text
    assert again.json()["item_id"] == item["item_id"] and again.json()["status"] == "submitted"
    await stories.caught_up()
    queue = await client.get(school.path("/classes/oak/portfolio/queue"), headers=school.teacher)
    assert [i["text"] for i in queue.json()] == ["My rocket: to the moon"]
    approved = await client.post(item_path + "/approve", headers=school.assistant)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    await stories.caught_up()

    seen = (await portfolio(client, school, "ada", family)).json()
    assert [(i["text"], i["status"], i["note"]) for i in seen] == [
        ("My rocket: to the moon", "approved", None)
    ]
    assert [a["media_id"] for a in seen[0]["attachments"]] == [drawing]
    assert (await client.get(school.path(f"/media/{drawing}"), headers=family)).status_code == 200
    other_family = school.parent("ben")
    assert (await portfolio(client, school, "ada", other_family)).status_code == 403
    assert (
        await client.get(school.path(f"/media/{drawing}"), headers=other_family)
    ).status_code == 404
    staff = await portfolio(client, school, "ada", school.office)
    assert staff.status_code == 200 and len(staff.json()) == 1
    assert (await portfolio(client, school, "ada", school.ash_teacher)).status_code == 403
    assert (await portfolio(client, school, "ada", school.pupil("ben"))).status_code == 403

    changed = await client.post(
        school.path("/portfolio"),
        headers=ada,
        json={"item_id": item["item_id"], "text": "changed", "attachments": []},
    )
    assert changed.status_code == 409 and changed.json()["type"].endswith("/item-approved")


async def test_a_pupil_adds_only_their_own_uploads_and_classmates_with_consent(
    stories: StoriesService, client: httpx.AsyncClient, school: School
) -> None:
    ada, ben = school.pupil("ada"), school.pupil("ben")
    bens = await upload(client, school, ben)
    teachers = await upload(client, school, school.teacher)
    mine = await upload(client, school, ada)
    before = await stories.head()
    for attachments, expected in (
        ([photo(bens)], "media-not-yours"),
        ([photo(teachers)], "media-not-yours"),
        ([photo(mine, school.p("ben"))], "no-media-consent"),
        ([photo(mine), photo(mine)], "duplicate-media"),
        ([], "empty-item"),
    ):
        answer = await client.post(
            school.path("/portfolio"),
            headers=ada,
            json={"text": "" if not attachments else "x", "attachments": attachments},
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["type"].endswith("/" + expected)
    taking = await client.post(
        school.path("/portfolio"), headers=ben, json={"text": "x", "task_id": "nope"}
    )
    assert taking.status_code == 422 and taking.json()["type"].endswith("/unknown-task")
    assert await stories.head() == before
    for headers in (school.teacher, school.parent("ada"), school.leader):
        refused = await client.post(school.path("/portfolio"), headers=headers, json={"text": "x"})
        assert refused.status_code == 403


async def test_home_learning_lists_every_pupil_with_where_they_are(
    stories: StoriesService, client: httpx.AsyncClient, school: School
) -> None:
    due = (date.today() + timedelta(days=7)).isoformat()
    task_body: dict[str, Any] = {
        "class_id": "oak",
        "title": "Spellings",
        "instructions": "Learn the ten words",
        "due_on": due,
    }
    for headers in (school.assistant, school.ash_teacher, school.office, school.pupil("ada")):
        refused = await client.post(school.path("/home-learning"), headers=headers, json=task_body)
        assert refused.status_code == 403, refused.text
    before = await stories.head()
    for bad in (
        {**task_body, "class_id": "nowhere"},
        {**task_body, "title": ""},
        {**task_body, "title": "   "},
        {**task_body, "due_on": "2001-01-01"},
        {**task_body, "due_on": "soon"},
    ):
        answer = await client.post(school.path("/home-learning"), headers=school.leader, json=bad)
        assert answer.status_code == 422, (bad, answer.text)
    assert await stories.head() == before
    set_task = await client.post(
        school.path("/home-learning"), headers=school.teacher, json=task_body
    )
    assert set_task.status_code == 201, set_task.text
    task = set_task.json()
    assert (task["title"], task["due_on"], task["set_by"]) == ("Spellings", due, "teacher-oak")
    await stories.caught_up()

    for headers in (
        school.teacher,
        school.assistant,
        school.office,
        school.pupil("ada"),
        school.parent("ben"),
    ):
        listed = await client.get(school.path("/classes/oak/home-learning"), headers=headers)
        assert listed.status_code == 200, listed.text
        assert [t["task_id"] for t in listed.json()] == [task["task_id"]]
    for headers in (
        school.ash_teacher,
        school.pupil("cal"),
        school.parent("cal"),
        school.other_leader,
    ):
        refused = await client.get(school.path("/classes/oak/home-learning"), headers=headers)
        assert refused.status_code == 403

    # ada hands in (approved), ben hands in (sent back), kit not yet
    async def hand_in(pupil: str) -> str:
        answer = await client.post(
            school.path("/portfolio"),
            headers=school.pupil(pupil),
            json={"text": "done", "task_id": task["task_id"]},
        )
        assert answer.status_code == 201, answer.text
        item_id: str = answer.json()["item_id"]
        return item_id

    ada_item, ben_item = await hand_in("ada"), await hand_in("ben")
    wrong_class = await client.post(
        school.path("/portfolio"),
        headers=school.pupil("cal"),
        json={"text": "done", "task_id": task["task_id"]},
    )
    assert wrong_class.status_code == 422
    submissions_path = school.path(f"/home-learning/{task['task_id']}/submissions")
    await stories.caught_up()
    rows = (await client.get(submissions_path, headers=school.assistant)).json()["pupils"]
    assert [(r["name"], r["status"]) for r in rows] == [
        ("Ada", "submitted"),
        ("Ben", "submitted"),
        ("Kit", "not_yet"),
    ]
    await client.post(school.path(f"/portfolio/{ada_item}/approve"), headers=school.teacher)
    await client.post(
        school.path(f"/portfolio/{ben_item}/send-back"),
        headers=school.teacher,
        json={"note": "Three words are missing"},
    )
    await stories.caught_up()
    answer = await client.get(submissions_path, headers=school.teacher)
    assert answer.json()["task"]["task_id"] == task["task_id"]
    assert [(r["pupil_id"], r["status"], r["item_id"]) for r in answer.json()["pupils"]] == [
        (school.p("ada"), "approved", ada_item),
        (school.p("ben"), "sent_back", ben_item),
        (school.p("kit"), "not_yet", None),
    ]
    for headers in (school.ash_teacher, school.pupil("ada"), school.parent("ada")):
        assert (await client.get(submissions_path, headers=headers)).status_code == 403
    assert (await client.get(submissions_path, headers=school.other_leader)).status_code == 403

    # each family sees their own child's class's home learning and where their child is:
    # approved work itself, sent-back work as handed in (the note is for the pupil)
    def child_path(pupil: str) -> str:
        return school.path(f"/pupils/{school.p(pupil)}/home-learning")

    async def family_sees(pupil: str) -> list[tuple[str, str, list[str]]]:
        answer = await client.get(child_path(pupil), headers=school.parent(pupil))
        assert answer.status_code == 200, answer.text
        return [
            (r["task"]["title"], r["status"], [w["text"] for w in r["work"]]) for r in answer.json()
        ]

    assert await family_sees("ada") == [("Spellings", "approved", ["done"])]
    assert await family_sees("ben") == [("Spellings", "submitted", [])]
    assert await family_sees("kit") == [("Spellings", "not_yet", [])]
    assert await family_sees("cal") == []  # ash has none: oak's are not hers
    ben_own = (await client.get(child_path("ben"), headers=school.pupil("ben"))).json()
    assert [(r["status"], [w["note"] for w in r["work"]]) for r in ben_own] == [
        ("sent_back", ["Three words are missing"])
    ]
    assert (
        "Three words"
        not in (await client.get(child_path("ben"), headers=school.parent("ben"))).text
    )
    for headers in (
        school.parent("ada"),
        school.pupil("ada"),
        school.ash_teacher,
        school.other_parent,
    ):
        refused = await client.get(child_path("ben"), headers=headers)
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    # the other school's parent, whose token names ada, asking under their own school
    elsewhere = f"/schools/{school.other}/pupils/{school.p('ada')}/home-learning"
    assert (await client.get(elsewhere, headers=school.other_parent)).status_code == 404
