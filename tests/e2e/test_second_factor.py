"""Staff turn on a second factor; sign-in then takes a code from the app or a recovery code.
In its own module: it changes how the demo's office account signs in."""

from __future__ import annotations

import time

import pyotp

from .conftest import client_for, signed_in  # type: ignore[import-not-found]

OFFICE = {"email": "office@demo.school", "password": "demo-office-pass"}
TEACHER = {"email": "teacher@demo.school", "password": "demo-teacher-pass"}
PARENT = {"email": "parent@demo.school", "password": "demo-parent-pass"}


def test_leaders_and_the_office_are_asked_to_turn_it_on(embedded: str) -> None:
    assert signed_in(embedded, OFFICE).get("/api/me").json()["second_factor"] == "asked"
    assert signed_in(embedded, TEACHER).get("/api/me").json()["second_factor"] == "off"
    parent = signed_in(embedded, PARENT)
    assert parent.get("/api/me").json()["second_factor"] is None
    assert parent.post("/api/me/second-factor").status_code == 403


def test_with_a_second_factor_a_password_alone_signs_nobody_in(embedded: str) -> None:
    elsewhere = signed_in(embedded, OFFICE)
    office = signed_in(embedded, OFFICE)
    begun = office.post("/api/me/second-factor")
    assert begun.status_code == 201, begun.text
    assert "<svg" in begun.json()["qr_svg"]
    totp = pyotp.TOTP(begun.json()["secret"])
    assert office.post("/api/me/second-factor/confirm", json={"code": "000000"}).status_code == 422
    # the step before now: the sign-in below uses now's, which is never this one
    confirmed = office.post(
        "/api/me/second-factor/confirm", json={"code": totp.at(time.time() - 30)}
    )
    assert confirmed.status_code == 200, confirmed.text
    recovery = confirmed.json()["recovery_codes"]
    assert office.get("/api/me").json()["second_factor"] == "on"
    assert elsewhere.get("/api/me").status_code == 401  # signed in with the password alone

    device = client_for(embedded)
    first = device.post("/api/session", json=OFFICE)
    assert first.status_code == 202 and first.json()["second_factor_required"] is True
    assert "schoolgate_session" not in first.headers.get("set-cookie", "")
    assert device.get("/api/me").status_code == 401
    challenge = first.json()["challenge"]
    wrong = device.post("/api/session/second-factor", json={"challenge": challenge, "code": "1"})
    assert wrong.status_code == 422  # too short to be a code at all
    code = totp.now()
    done = device.post("/api/session/second-factor", json={"challenge": challenge, "code": code})
    assert done.status_code == 200, done.text
    assert device.get("/api/me").json()["role"] == "office"
    # neither the challenge nor the code opens a second session
    again = client_for(embedded)
    replay = again.post("/api/session/second-factor", json={"challenge": challenge, "code": code})
    assert replay.status_code == 401
    challenge = again.post("/api/session", json=OFFICE).json()["challenge"]
    replay = again.post("/api/session/second-factor", json={"challenge": challenge, "code": code})
    assert replay.status_code == 401
    # a recovery code, once
    answer = {"challenge": challenge, "code": recovery[0]}
    assert again.post("/api/session/second-factor", json=answer).status_code == 200
    lost = client_for(embedded)
    answer["challenge"] = lost.post("/api/session", json=OFFICE).json()["challenge"]
    assert lost.post("/api/session/second-factor", json=answer).status_code == 401
