"""Guessing is slowed: passwords, class codes, class board codes. In their own module, so
their own instance: the limits they use up would otherwise refuse the other tests' requests."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from ..conftest import start_embedded  # type: ignore[import-not-found]
from .conftest import client_for  # type: ignore[import-not-found]


def a_parent(base: str) -> dict[str, str]:
    who = {"email": f"{uuid.uuid4().hex[:8]}@family.example", "password": "the-right-password"}
    made = client_for(base).post("/api/join/account", json={**who, "display_name": "A parent"})
    assert made.status_code == 202, made.text
    return who


def refused(answer: httpx.Response) -> bool:
    """A 429 that says, in its header, how many seconds to wait."""
    wait = answer.headers.get("retry-after", "")
    return answer.status_code == 429 and wait.isdigit() and 0 < int(wait) <= 900


def test_a_stranger_cannot_lock_the_owner_out_of_their_own_browser(embedded: str) -> None:
    who = a_parent(embedded)
    owner = client_for(embedded)
    assert owner.post("/api/session", json=who).status_code == 200  # a browser it knows now
    stranger = client_for(embedded)
    wrong = {**who, "password": "a-wrong-guess"}
    guesses = [stranger.post("/api/session", json=wrong) for _ in range(50)]
    assert [g.status_code for g in guesses[:10]] == [401] * 10
    assert all(refused(g) for g in guesses[10:])
    # the stranger's browser waits even with the right password
    assert refused(stranger.post("/api/session", json=who))
    # the owner's own browser is not theirs to lock
    assert owner.post("/api/session", json=who).status_code == 200
    # and has a limit of its own
    mistakes = [owner.post("/api/session", json=wrong) for _ in range(11)]
    assert [m.status_code for m in mistakes[:10]] == [401] * 10
    assert refused(mistakes[10])


def test_limits_survive_a_restart(tmp_path: Path) -> None:
    base, first = start_embedded(tmp_path)
    try:
        who = a_parent(base)
        guesser = client_for(base)
        wrong = {**who, "password": "a-wrong-guess"}
        assert [guesser.post("/api/session", json=wrong).status_code for _ in range(10)] == [
            401
        ] * 10
        assert refused(guesser.post("/api/session", json=wrong))
    finally:
        first.stop()
    base, again = start_embedded(tmp_path)
    try:
        assert refused(client_for(base).post("/api/session", json=wrong))
    finally:
        again.stop()


def test_class_code_guessing_is_slowed(embedded: str) -> None:
    guesser = client_for(embedded)
    answers = [guesser.post("/api/pupil/class", json={"code": f"ZZZZ{i:02d}"}) for i in range(31)]
    assert {a.status_code for a in answers[:30]} == {404}
    assert refused(answers[30])


def test_board_code_guessing_is_slowed_on_the_class_codes_budget(embedded: str) -> None:
    guesser = client_for(embedded)
    answers = []
    for _ in range(31):  # whatever of the budget the tests above left
        answers.append(guesser.post("/api/board/session", json={"code": "ZZZZZZ"}))
        if answers[-1].status_code != 404:
            break
    assert refused(answers[-1]), [a.status_code for a in answers]
    assert {a.status_code for a in answers[:-1]} <= {404}
    # one budget: a guesser gains nothing by turning to the pupils' class codes
    assert refused(guesser.post("/api/pupil/class", json={"code": "ZZZZ00"}))
