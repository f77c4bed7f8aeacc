"""Issue 3 through the gateway: families join with a letter's code, staff set passwords with
a one-time link, pupils sign in the classroom way, and suspended parents are kept out."""

from __future__ import annotations

import uuid

import httpx
from schoolgate_kit.testing.waiting import GATEWAY_CAUGHT_UP_PATH, Written, until_projected_sync

from .conftest import client_for, signed_in  # type: ignore[import-not-found]

SCHOOL = "/api/consent/schools/demo-school"
LEADER = {"email": "leader@demo.school", "password": "demo-leader-pass"}
TEACHER = {"email": "teacher@demo.school", "password": "demo-teacher-pass"}


def projected(client: httpx.Client, written: Written) -> None:
    """Wait until the gateway's and every service's read models have what ``written``
    (a write's answer) appended."""
    until_projected_sync(client, written, path=GATEWAY_CAUGHT_UP_PATH)


def new_parent(base: str) -> tuple[httpx.Client, dict[str, str]]:
    who = {"email": f"{uuid.uuid4().hex[:8]}@family.example", "password": "a-long-password"}
    parent = client_for(base)
    made = parent.post("/api/join/account", json={**who, "display_name": "A parent"})
    assert made.status_code == 202, made.text
    assert "set-cookie" not in made.headers  # joining signs nobody in: signing in does
    signed = parent.post("/api/session", json=who)
    assert signed.status_code == 200, signed.text
    return parent, who


def test_joining_answers_alike_whether_or_not_the_email_has_an_account(embedded: str) -> None:
    _, who = new_parent(embedded)
    answers = []
    for email in (who["email"].upper(), f"{uuid.uuid4().hex[:8]}@family.example"):
        client = client_for(embedded)
        body = {"email": email, "password": "someone-elses-password", "display_name": "X"}
        answer = client.post("/api/join/account", json=body)
        answers.append((answer.status_code, answer.json(), "set-cookie" in answer.headers))
        assert client.get("/api/me").status_code == 401
    assert answers[0] == answers[1]
    assert answers[0][0] == 202 and answers[0][2] is False
    # the account that was there is untouched: its own password still opens it, the
    # stranger's does not
    assert signed_in(embedded, who)
    stranger = {"email": who["email"], "password": "someone-elses-password"}
    assert client_for(embedded).post("/api/session", json=stranger).status_code == 401


def invite(leader: httpx.Client, pupil: str) -> str:
    answer = leader.post(f"{SCHOOL}/pupils/{pupil}/invites", json={})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["code"])


async def test_a_parent_joins_with_a_letters_code_and_sees_their_child(
    embedded: str, ids: dict[str, str]
) -> None:
    leader = signed_in(embedded, LEADER)
    code = invite(leader, ids["ben"])
    parent, _ = new_parent(embedded)
    assert parent.get("/api/me").json()["children"] == []
    joined = parent.post("/api/join/redeem", json={"code": code})
    assert joined.status_code == 200, joined.text
    assert joined.json()["status"] == "linked"
    conduct = joined.json()["code_of_conduct"]
    projected(parent, joined)  # as the page does: the school knows the family from then on
    accepted = parent.post(
        f"{SCHOOL}/code-of-conduct/acceptances", json={"version": conduct["version"]}
    )
    assert accepted.status_code in {200, 201}, accepted.text

    def sees_ben() -> bool:
        return [c["name"] for c in parent.get("/api/me").json()["children"]] == ["Ben"]

    projected(parent, accepted)
    assert sees_ben(), "the parent sees Ben"
    # the code was single-use: a second family cannot use it
    other, _ = new_parent(embedded)
    again = other.post("/api/join/redeem", json={"code": code})
    assert again.status_code == 422
    # and the new parent sees Ben's points, not Ada's
    assert parent.get(f"/api/pupils/{ids['ben']}/weekly-total").status_code == 200
    assert parent.get(f"/api/pupils/{ids['ada']}/weekly-total").status_code == 403


async def test_a_third_guardian_waits_for_a_leader(embedded: str, ids: dict[str, str]) -> None:
    leader = signed_in(embedded, LEADER)
    for _ in range(2):
        parent, _ = new_parent(embedded)
        assert (
            parent.post("/api/join/redeem", json={"code": invite(leader, ids["cara"])}).json()[
                "status"
            ]
            == "linked"
        )
    third, _ = new_parent(embedded)
    waiting = third.post("/api/join/redeem", json={"code": invite(leader, ids["cara"])})
    assert waiting.json()["status"] == "pending"

    def waiting_for_cara() -> list[dict[str, str]]:
        requests = leader.get(f"{SCHOOL}/guardian-requests").json()
        return [r for r in requests if r["pupil_id"] == ids["cara"]]

    projected(leader, waiting)
    assert waiting_for_cara(), "the leader sees the request"
    [request] = waiting_for_cara()
    decided = leader.post(
        f"{SCHOOL}/pupils/{ids['cara']}/guardian-requests/{request['request_id']}/decision",
        json={"decision": "approve", "reason": "Grandparent who collects Cara daily"},
    )
    assert decided.status_code == 200, decided.text

    def sees_cara() -> bool:
        return [c["pupil_id"] for c in third.get("/api/me").json()["children"]] == [ids["cara"]]

    projected(third, decided)
    assert sees_cara(), "the approved guardian sees Cara"


def test_a_wrong_or_used_code_makes_no_account_a_working_one_does(
    embedded: str, ids: dict[str, str]
) -> None:
    leader = signed_in(embedded, LEADER)
    code = invite(leader, ids["sam-k"])

    def join(code: str) -> tuple[httpx.Response, dict[str, str]]:
        who = {"email": f"{uuid.uuid4().hex[:8]}@family.example", "password": "a-long-password"}
        body = {**who, "display_name": "A parent", "code": code}
        return client_for(embedded).post("/api/join/account", json=body), who

    wrong, who = join("ZZZZZ-99999")
    assert wrong.status_code == 422, wrong.text
    assert wrong.headers["content-type"] == "application/problem+json"
    assert wrong.json()["type"].endswith("/invite-not-valid")
    assert "set-cookie" not in wrong.headers
    assert client_for(embedded).post("/api/session", json=who).status_code == 401

    first, who = join(code)
    assert first.status_code == 202, first.text
    parent = client_for(embedded)
    assert parent.post("/api/session", json=who).status_code == 200
    redeemed = parent.post("/api/join/redeem", json={"code": code})
    assert redeemed.json()["status"] == "linked", redeemed.text

    used, who = join(code)
    assert used.status_code == 422, used.text
    assert used.json()["type"].endswith("/invite-not-valid")
    assert client_for(embedded).post("/api/session", json=who).status_code == 401


async def test_a_suspended_parent_cannot_sign_in_until_it_is_lifted(
    embedded: str, ids: dict[str, str]
) -> None:
    leader = signed_in(embedded, LEADER)
    parent, who = new_parent(embedded)
    linked = parent.post("/api/join/redeem", json={"code": invite(leader, ids["dev"])})
    assert linked.status_code == 200, linked.text

    def guardians() -> list[str]:
        consent = leader.get(f"{SCHOOL}/pupils/{ids['dev']}/consent").json()
        return [g["parent_id"] for g in consent["guardians"]]

    projected(leader, linked)
    assert guardians(), "the leader sees Dev's guardian"
    [guardian] = guardians()
    suspended = leader.post(
        f"{SCHOOL}/parents/{guardian}/suspension", json={"reason": "Abusive messages to staff"}
    )
    assert suspended.status_code in {200, 201}, suspended.text

    def refused() -> bool:
        answer = client_for(embedded).post("/api/session", json=who)
        return answer.status_code == 403 and answer.json()["type"].endswith("/account-suspended")

    projected(leader, suspended)
    assert refused(), "a suspended parent cannot sign in"
    assert parent.get("/api/me").status_code == 403  # nor use a session they had
    lifted = leader.delete(f"{SCHOOL}/parents/{guardian}/suspension")
    assert lifted.status_code in {200, 204}
    projected(leader, lifted)
    again = client_for(embedded).post("/api/session", json=who)
    assert again.status_code == 200, "lifting the suspension restores access"


def new_colleague(leader: httpx.Client, role: str) -> tuple[str, str, httpx.Response]:
    """A member of staff the leader adds: (staff id, email, the roster's answer)."""
    email = f"{uuid.uuid4().hex[:8]}@demo.school"
    body = {"display_name": "New colleague", "email": email, "role": role}
    added = leader.post("/api/roster/schools/demo-school/staff", json=body)
    if added.status_code == 422:  # a roster that wants the caller to name the id
        body["staff_id"] = f"staff-{uuid.uuid4().hex[:8]}"
        added = leader.post("/api/roster/schools/demo-school/staff", json=body)
    assert added.status_code == 201, added.text
    return str(added.json()["staff_id"]), email, added


async def test_staff_set_their_password_with_a_one_time_link(embedded: str) -> None:
    leader = signed_in(embedded, LEADER)
    staff_id, email, added = new_colleague(leader, "office")
    # the gateway's own staff list trails the roster's: wait for the addition to reach it
    projected(leader, added)
    answer = leader.post(f"/api/staff/{staff_id}/setup-link")
    assert answer.status_code == 201, answer.text
    token = answer.json()["link"].split("#setup=")[1]
    office = client_for(embedded)
    done = office.post("/api/setup", json={"token": token, "password": "a-brand-new-password"})
    assert done.status_code == 200, done.text
    assert done.json()["role"] == "office"
    again = client_for(embedded).post(
        "/api/setup", json={"token": token, "password": "another-password"}
    )
    assert again.status_code == 401
    assert signed_in(embedded, {"email": email, "password": "a-brand-new-password"})
    teacher = signed_in(embedded, TEACHER)
    assert teacher.post(f"/api/staff/{staff_id}/setup-link").status_code == 403


def test_a_leader_cannot_take_over_a_colleague_with_a_set_up_link(
    embedded: str, ids: dict[str, str]
) -> None:
    leader = signed_in(embedded, LEADER)
    office = signed_in(embedded, {"email": "office@demo.school", "password": "demo-office-pass"})
    # a colleague who has a password keeps it, and their session
    refused = leader.post(f"/api/staff/{ids['staff-elm']}/setup-link")
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"].endswith("/has-password")
    assert office.get("/api/me").status_code == 200
    assert signed_in(embedded, {"email": "office@demo.school", "password": "demo-office-pass"})


async def test_no_set_up_link_for_another_leader(embedded: str) -> None:
    leader = signed_in(embedded, LEADER)
    staff_id, _, added = new_colleague(leader, "leader")
    projected(leader, added)
    assert leader.post(f"/api/staff/{staff_id}/setup-link").status_code == 403


def test_signing_out_everywhere_ends_every_session(embedded: str) -> None:
    _, who = new_parent(embedded)
    phone, laptop = signed_in(embedded, who), signed_in(embedded, who)
    assert phone.post("/api/session/everywhere").status_code == 204
    assert phone.get("/api/me").status_code == 401
    assert laptop.get("/api/me").status_code == 401
    assert signed_in(embedded, who).get("/api/me").status_code == 200


def test_a_pupil_signs_in_with_the_class_code_and_their_picture(
    embedded: str, ids: dict[str, str]
) -> None:
    teacher = signed_in(embedded, TEACHER)
    assert teacher.post(f"/api/classes/{ids['ash']}/code").status_code == 403  # not their class
    code = teacher.post(f"/api/classes/{ids['oak']}/code").json()["code"]
    tablet = client_for(embedded)
    pupils = tablet.post("/api/pupil/class", json={"code": code.lower()}).json()["pupils"]
    names = [p["name"] for p in pupils]
    assert "Ada" in names and "Sam K." in names and "Sam L." in names
    assert all("surname" not in p for p in pupils)
    wrong_class = tablet.post("/api/pupil/session", json={"code": code, "pupil_id": ids["dev"]})
    assert wrong_class.status_code == 404
    me = tablet.post("/api/pupil/session", json={"code": code, "pupil_id": ids["ada"]})
    assert me.status_code == 200 and me.json()["role"] == "pupil"
    assert tablet.get(f"/api/pupils/{ids['ada']}/weekly-total").status_code == 200
    assert tablet.get(f"/api/pupils/{ids['ben']}/weekly-total").status_code == 403
    assert (
        tablet.post(
            "/api/awards", json={"pupil_id": ids["ada"], "school_way_id": ids["kindness"]}
        ).status_code
        == 403
    )


def test_a_pupils_personal_card_signs_them_in(embedded: str, ids: dict[str, str]) -> None:
    teacher = signed_in(embedded, TEACHER)
    card = teacher.post(f"/api/pupils/{ids['ben']}/card").json()
    assert "<svg" in card["qr_svg"]
    assert teacher.post(f"/api/pupils/{ids['dev']}/card").status_code == 404  # not in their classes
    assert card["expires_on"] > "2026"
    path = card["url"].split("localhost:8000")[1]
    # a link to the card from another site shows a button, and signs nobody in
    lured = client_for(embedded)
    page = lured.get(path, headers={"sec-fetch-site": "cross-site"})
    assert page.status_code == 200 and '<form method="post" action="/pupil-card">' in page.text
    assert "set-cookie" not in page.headers
    assert lured.get("/api/me").status_code == 401
    token = path.split("token=")[1]
    pressed = lured.post(
        "/pupil-card", content=f"token={token}", headers={"sec-fetch-site": "same-origin"}
    )
    assert pressed.status_code == 303
    assert lured.get("/api/me").json()["role"] == "pupil"
    device = client_for(embedded)
    assert device.get(path, headers={"sec-fetch-site": "none"}).status_code == 303  # scanned
    assert device.get("/api/me").json()["role"] == "pupil"
    new_card = teacher.post(f"/api/pupils/{ids['ben']}/card").json()
    assert new_card["url"] != card["url"]
    stale = client_for(embedded)
    stale.get(path)
    assert stale.get("/api/me").status_code == 401  # the old card is retired


def test_the_proxy_refuses_unknown_services_and_signed_out_people(embedded: str) -> None:
    assert client_for(embedded).get("/api/roster/schools/demo-school/classes").status_code == 401
    teacher = signed_in(embedded, TEACHER)
    assert teacher.get("/api/secrets/anything").status_code == 404
    assert teacher.get("/api/roster/schools/demo-school/classes").status_code == 200
    assert teacher.get("/api/roster/schools/other-school/classes").status_code == 403


async def test_a_changed_code_of_conduct_is_asked_for_again(
    embedded: str, ids: dict[str, str]
) -> None:
    leader = signed_in(embedded, LEADER)
    parent, _ = new_parent(embedded)
    joined = parent.post("/api/join/redeem", json={"code": invite(leader, ids["eve"])}).json()
    version = joined["code_of_conduct"]["version"]

    def due() -> list[tuple[int, bool]]:
        return [
            (d["version"], "social media" in d["text"])
            for d in parent.get("/api/me").json()["code_of_conduct_due"]
        ]

    assert due() == [(version, False)]
    accepted = parent.post(f"{SCHOOL}/code-of-conduct/acceptances", json={"version": version})
    projected(parent, accepted)
    assert due() == [], "the acceptance is recorded"
    changed = leader.put(
        f"{SCHOOL}/code-of-conduct",
        json={"text": "We are kind. We also keep photos of other children off social media."},
    )
    assert changed.status_code == 200, changed.text
    projected(leader, changed)
    assert due() == [(version + 1, True)], "the new version is due"
    accepted = parent.post(f"{SCHOOL}/code-of-conduct/acceptances", json={"version": version + 1})
    projected(parent, accepted)
    assert due() == [], "the new version is accepted"


async def test_leaders_see_who_a_parent_is_and_no_one_else_does(
    embedded: str, ids: dict[str, str]
) -> None:
    leader = signed_in(embedded, LEADER)
    parent, who = new_parent(embedded)
    linked = parent.post("/api/join/redeem", json={"code": invite(leader, ids["sam-l"])})
    parent_id = parent.get("/api/me").json()  # the parent's own id is not shown to them
    assert "parent_id" not in parent_id

    def guardians() -> list[str]:
        consent = leader.get(f"{SCHOOL}/pupils/{ids['sam-l']}/consent").json()
        return [g["parent_id"] for g in consent["guardians"]]

    projected(leader, linked)
    assert guardians(), "the leader sees Sam L.'s guardian"
    [guardian] = guardians()
    contact = leader.get(f"/api/schools/demo-school/parents/{guardian}")
    assert contact.status_code == 200
    assert contact.json()["email"] == who["email"]
    teacher = signed_in(embedded, TEACHER)
    assert teacher.get(f"/api/schools/demo-school/parents/{guardian}").status_code == 403
    assert leader.get(f"/api/schools/other-school/parents/{guardian}").status_code == 404
    assert leader.get("/api/schools/demo-school/parents/parent-unknown").status_code == 404


def test_a_parent_changes_their_account_and_other_sessions_end(embedded: str) -> None:
    phone, who = new_parent(embedded)
    laptop = signed_in(embedded, who)
    account = "/api/me/account"

    renamed = phone.put(account, json={"display_name": "  Sam Okri "})
    assert renamed.status_code == 200, renamed.text
    assert phone.get("/api/me").json()["display_name"] == "Sam Okri"
    for bad in ({"display_name": "  "}, {"language": "xx"}, {"surprise": 1}):
        refused = phone.put(account, json=bad)
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
    assert phone.get(account).json()["display_name"] == "Sam Okri"
    assert phone.put(account, json={"language": "en"}).json()["language"] == "en"
    staff = signed_in(embedded, TEACHER)
    assert staff.put(account, json={"display_name": "Someone"}).status_code == 403
    assert staff.get("/api/me").json()["display_name"] == "Ms Oak"

    # a new email: the password asked again; one another account has is refused
    _, other_who = new_parent(embedded)
    email = f"{uuid.uuid4().hex[:8]}@family.example"
    for body, status in (
        ({"email": email, "password": "not-my-password"}, 403),
        ({"email": other_who["email"].upper(), "password": who["password"]}, 409),
    ):
        assert phone.put(f"{account}/email", json=body).status_code == status
    moved = phone.put(f"{account}/email", json={"email": email, "password": who["password"]})
    assert moved.status_code == 200, moved.text
    assert client_for(embedded).post("/api/session", json=who).status_code == 401
    who = {**who, "email": email}
    assert signed_in(embedded, who)

    # a new password needs the old one; it signs every other session out, not this one
    wrong = phone.put(
        f"{account}/password", json={"password": "not-my-password", "new_password": "x" * 12}
    )
    assert wrong.status_code == 403 and wrong.json()["type"].endswith("/password-wrong")
    assert laptop.get("/api/me").status_code == 200
    new = {"password": who["password"], "new_password": "a-new-long-password"}
    assert phone.put(f"{account}/password", json=new).status_code == 204
    assert phone.get("/api/me").status_code == 200
    assert laptop.get("/api/me").status_code == 401
    assert client_for(embedded).post("/api/session", json=who).status_code == 401
    who = {**who, "password": "a-new-long-password"}
    tablet = signed_in(embedded, who)

    # guessing the old password here is limited as signing in is
    guesses = [
        phone.put(
            f"{account}/password", json={"password": f"guess-{n}", "new_password": "y" * 12}
        ).status_code
        for n in range(10)
    ]
    assert guesses[-1] == 429 and set(guesses) <= {403, 429}, guesses
    assert phone.get("/api/me").status_code == 200  # still theirs, still signed in

    # signing out everywhere ends this session and the other one
    assert phone.post("/api/session/everywhere").status_code == 204
    assert phone.get("/api/me").status_code == 401
    assert tablet.get("/api/me").status_code == 401
