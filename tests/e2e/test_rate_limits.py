"""Guessing is slowed: passwords, class codes. In their own module, so their own instance:
the limits they use up would otherwise refuse the other tests' requests."""

from __future__ import annotations

from .conftest import client_for  # type: ignore[import-not-found]


def test_password_guessing_is_slowed(embedded: str) -> None:
    client = client_for(embedded)
    guesses = [
        client.post(
            "/api/session", json={"email": "leader@demo.school", "password": f"guess-{i}"}
        ).status_code
        for i in range(12)
    ]
    assert guesses[:10] == [401] * 10
    assert guesses[10:] == [429, 429]
    # even the right password waits now
    right = client.post(
        "/api/session", json={"email": "leader@demo.school", "password": "demo-leader-pass"}
    )
    assert right.status_code == 429


def test_class_code_guessing_is_slowed(embedded: str) -> None:
    guesser = client_for(embedded)
    answers = [
        guesser.post("/api/pupil/class", json={"code": f"ZZZZ{i:02d}"}).status_code
        for i in range(31)
    ]
    assert set(answers[:30]) == {404}
    assert answers[30] == 429
