"""Before writing about a pupil: whom a new message reaches, for those who may write it."""

from __future__ import annotations

import httpx

from services.messaging.tests.integration.conftest import School


async def test_the_writer_learns_the_class_staff_and_how_many_parents_and_no_one_else_does(
    client: httpx.AsyncClient, school: School
) -> None:
    def path(child: str) -> str:
        return school.path(f"/pupils/{school.p(child)}/recipients")

    # Ben has two parents: staff write to both, and see that there are two
    ben = await client.get(path("ben"), headers=school.teacher)
    assert ben.status_code == 200, ben.text
    assert ben.json() == {
        "pupil_id": school.p("ben"),
        "class_staff": ["Ms Oak", "Mr Birch"],
        "parents": 2,
    }
    ada = await client.get(path("ada"), headers=school.parent("ada"))
    assert ada.json()["class_staff"] == ["Ms Oak", "Mr Birch"]
    assert ada.json()["parents"] == 1
    # the office writes about any pupil of its school
    assert (await client.get(path("cal"), headers=school.office)).status_code == 200

    # another family's child, another class's pupil, a pupil, an administrator: refused
    for headers in (school.parent("ben"), school.ash_teacher, school.pupil("ada"), school.admin):
        refused = await client.get(path("ada"), headers=headers)
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    # the same class id at another school does not make its teacher one of ours
    other = f"/schools/{school.other}/pupils/{school.p('ada')}/recipients"
    assert (await client.get(other, headers=school.other_teacher)).status_code == 404
    assert (await client.get(other, headers=school.other_parent)).status_code == 404
    missing = await client.get(school.path("/pupils/nobody/recipients"), headers=school.teacher)
    assert missing.status_code == 404
