"""Leaders see which member of staff read which child's record, and when; the audit itself
says nothing about the child beyond their id, and only leaders may read it."""

from __future__ import annotations

from .conftest import signed_in  # type: ignore[import-not-found]

TEACHER = {"email": "teacher@demo.school", "password": "demo-teacher-pass"}
LEADER = {"email": "leader@demo.school", "password": "demo-leader-pass"}
OFFICE = {"email": "office@demo.school", "password": "demo-office-pass"}
PARENT = {"email": "parent@demo.school", "password": "demo-parent-pass"}
SCHOOL = "/schools/demo-school"


def test_staff_reads_of_a_childs_record_are_shown_to_leaders_only(
    embedded: str, ids: dict[str, str]
) -> None:
    teacher, leader, office, parent = (
        signed_in(embedded, w) for w in (TEACHER, LEADER, OFFICE, PARENT)
    )
    ada, leo = ids["ada"], ids["leo"]
    reads = {
        f"/api/consent{SCHOOL}/pupils/{ada}/consent": 200,
        f"/api/stories{SCHOOL}/pupils/{ada}/portfolio": 200,
        f"/api/points{SCHOOL}/pupils/{ada}/summary": 200,
        f"/api/points{SCHOOL}/classes/{ids['oak']}/report?from=2026-09-01&to=2026-12-31": 200,
        # another class's child: refused, and a refusal is not a read
        f"/api/consent{SCHOOL}/pupils/{leo}/consent": 403,
    }
    for path, status in reads.items():
        answer = teacher.get(path)
        assert answer.status_code == status, f"{path}: {answer.text}"
    # the office's read of a photo consent, and a parent's own look at their child
    assert office.get(f"/api/consent{SCHOOL}/pupils/{leo}/media").status_code == 200
    assert parent.get(f"/api/points{SCHOOL}/pupils/{ada}/summary").status_code in {200, 403}

    answer = leader.get("/api/audit", params={"limit": 500})
    assert answer.status_code == 200, answer.text
    seen = [(e["role"], e["pupil_id"], e["class_id"], e["what"]) for e in answer.json()]
    assert ("teacher", ada, None, "guardians and consent") in seen
    assert ("teacher", ada, None, "portfolio") in seen
    assert ("teacher", ada, None, "points") in seen
    assert ("teacher", None, ids["oak"], "class points report") in seen
    assert ("office", leo, None, "photo consent") in seen
    assert not any(role == "parent" for role, *_ in seen)
    assert ("teacher", leo, None, "guardians and consent") not in seen
    assert "Lovelace" not in answer.text and "Ada" not in answer.text

    only_leo = leader.get("/api/audit", params={"pupil_id": leo}).json()
    assert only_leo and {e["pupil_id"] for e in only_leo} == {leo}
    newest_first = [e["at"] for e in answer.json()]
    assert newest_first == sorted(newest_first, reverse=True)

    for who in (teacher, office, parent):
        refused = who.get("/api/audit")
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    assert leader.get("/api/audit", params={"limit": 0}).status_code == 422
    assert leader.get("/api/audit", params={"pupil_id": "../x"}).status_code == 422
