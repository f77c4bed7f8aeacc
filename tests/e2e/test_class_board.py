"""The class board through the gateway, as `make run` serves it: a teacher shows a board code,
the classroom screen types it and shows the class (first names, monsters, the class total)
and its well-done points live. The board's session reads that board and nothing else.

In a module of its own: the last test uses up the instance's budget of code guesses."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from schoolgate_kit.testing.waiting import GATEWAY_CAUGHT_UP_PATH, until_projected_sync

from ..conftest import until  # type: ignore[import-not-found]
from .conftest import client_for, signed_in  # type: ignore[import-not-found]
from .test_points_live import (  # type: ignore[import-not-found]
    ASSISTANT,
    GENEROUS,
    LEADER,
    OFFICE,
    PARENT,
    SCHOOL,
    TEACHER,
    listening,
)

BOARD = "schoolgate_board"


def board_code(staff: httpx.Client, class_id: str) -> str:
    answer = staff.post(f"/api/classes/{class_id}/board-code")
    assert answer.status_code == 201, answer.text
    code: str = answer.json()["code"]
    return code


def paired(base: str, code: str) -> tuple[httpx.Client, str]:
    """A classroom screen that typed the code: its client and its board session's token."""
    screen = client_for(base)
    answer = screen.post("/api/board/session", json={"code": code.lower()})
    assert answer.status_code == 200, answer.text
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/api/board" in cookie
    return screen, answer.cookies[BOARD]


def board_total(screen: httpx.Client, class_id: str, after: int = 0) -> int:
    answer = screen.get(f"/api/board/classes/{class_id}/total", params={"after": after})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["total"])


async def test_a_paired_screen_shows_the_class_and_its_well_done_points_live(
    embedded: str, ids: dict[str, str]
) -> None:
    teacher, oak = signed_in(embedded, TEACHER), ids["oak"]
    code = board_code(teacher, oak)
    assert len(code) == 6
    screen, _ = paired(embedded, code)
    again = client_for(embedded).post("/api/board/session", json={"code": code})
    assert again.status_code == 404, again.text  # a code works once
    assert again.headers["content-type"] == "application/problem+json"

    assert screen.get("/api/board/session").json() == {"class_id": oak, "class_name": "Oak"}
    board = screen.get(f"/api/board/classes/{oak}")
    assert board.status_code == 200, board.text
    shown: dict[str, Any] = board.json()
    assert shown["class_name"] == "Oak"
    assert [p["name"] for p in shown["pupils"]] == ["Ada", "Ben", "Cara", "Sam K.", "Sam L."]
    for surname in ("Lovelace", "Okri", "Diaz", "Kay", "Lee"):
        assert surname not in board.text  # the room sees first names only

    leader = signed_in(embedded, LEADER)
    settings = f"/api/points/schools/{SCHOOL}/settings"
    turned_on = leader.put(settings, json={"needs_work_enabled": True, "undo_window_seconds": 60})
    assert turned_on.status_code == 200, turned_on.text
    until_projected_sync(teacher, turned_on, path=GATEWAY_CAUGHT_UP_PATH)
    before = board_total(screen, oak)
    async with listening(screen, f"/api/board/classes/{oak}/live") as live:
        point = {"pupil_id": ids["ada"], "school_way_id": ids["kindness"]}
        given = teacher.post("/api/awards", json=point)
        assert given.status_code == 201, given.text
        news = await live.next()
        assert (news["pupil_id"], news["award_id"]) == (ids["ada"], given.json()["award_id"])
        # the page's follow-up waits for that position, up to a limit: ask again if busy
        await until(
            lambda: board_total(screen, oak, news["position"]) == before + 1,
            why="the board's total with Ada's point",
        )
        note = {"pupil_id": ids["ben"], "school_way_id": ids["effort"], "kind": "needs_work"}
        assert teacher.post("/api/awards", json=note).status_code == 201
        point = {"pupil_id": ids["cara"], "school_way_id": ids["kindness"]}
        given = teacher.post("/api/awards", json=point)
        assert given.status_code == 201, given.text
        news = await live.next()
        # Ben's "needs work" note never reaches the room: the next news is Cara's point
        assert (news["pupil_id"], news["award_id"]) == (ids["cara"], given.json()["award_id"])

        # the teacher stops every board of the class: the open stream says so and ends,
        # at the next thing it would have sent, and the screen reads nothing any more
        assert teacher.delete(f"/api/classes/{oak}/boards").json() == {"ended": 1}
        assert teacher.post("/api/awards", json=point).status_code == 201
        async with asyncio.timeout(GENEROUS):
            assert await live.events.get() == ("ended", {})
    assert screen.get(f"/api/board/classes/{oak}").status_code == 401


def test_who_may_show_a_board_code_and_open_a_board(embedded: str, ids: dict[str, str]) -> None:
    oak, ash = ids["oak"], ids["ash"]
    teacher, assistant = signed_in(embedded, TEACHER), signed_in(embedded, ASSISTANT)
    leader, office = signed_in(embedded, LEADER), signed_in(embedded, OFFICE)
    parent = signed_in(embedded, PARENT)
    assert teacher.post(f"/api/classes/{ash}/board-code").status_code == 403
    assert assistant.post(f"/api/classes/{oak}/board-code").status_code == 201
    assert leader.post(f"/api/classes/{ash}/board-code").status_code == 201
    assert leader.post("/api/classes/no-such-class/board-code").status_code == 404
    for refused in (office, parent):
        assert refused.post(f"/api/classes/{oak}/board-code").status_code == 403
        assert refused.get(f"/api/board/classes/{oak}").status_code == 403
    # staff who may follow the class open its board on their own screen
    assert teacher.get(f"/api/board/classes/{oak}").status_code == 200
    assert teacher.get(f"/api/board/classes/{ash}").status_code == 403
    assert leader.get(f"/api/board/classes/{ash}").status_code == 200
    assert client_for(embedded).get(f"/api/board/classes/{oak}").status_code == 401


@pytest.fixture(scope="module")
def board_token(embedded: str, ids: dict[str, str]) -> str:
    """One board session of Oak's for the whole matrix below."""
    _, token = paired(embedded, board_code(signed_in(embedded, TEACHER), ids["oak"]))
    return token


@pytest.mark.parametrize(
    ("method", "path"),
    [
        # writes, whatever they are
        ("POST", "/api/awards"),
        ("POST", "/api/awards/any-award/undo"),
        ("POST", "/api/classes/{oak}/code"),
        ("POST", "/api/classes/{oak}/board-code"),
        ("DELETE", "/api/classes/{oak}/boards"),
        ("PUT", f"/api/points/schools/{SCHOOL}/settings"),
        ("POST", f"/api/roster/schools/{SCHOOL}/pupils"),
        ("POST", "/api/exports"),
        # staff's and families' reads, the class's own among them
        ("GET", "/api/me"),
        ("GET", f"/api/roster/schools/{SCHOOL}/classes/{{oak}}/pupils"),
        ("GET", f"/api/points/schools/{SCHOOL}/classes/{{oak}}/total"),
        ("GET", "/api/live/classes/{oak}"),
        ("GET", "/api/live/pupils/{ada}"),
        ("GET", f"/api/points/schools/{SCHOOL}/pupils/{{ada}}/summary"),
        ("GET", "/api/feed"),
        ("GET", "/api/audit"),
    ],
)
def test_a_board_session_opens_nothing_but_its_board(
    embedded: str, ids: dict[str, str], board_token: str, method: str, path: str
) -> None:
    """Its token sent to any other route, as the board cookie or as a person's session."""
    url = path.format(oak=ids["oak"], ada=ids["ada"])
    for cookie in (f"{BOARD}={board_token}", f"schoolgate_session={board_token}"):
        answer = client_for(embedded).request(method, url, headers={"cookie": cookie}, json={})
        assert answer.status_code == 401, (cookie.split("=")[0], answer.text)


def test_a_board_shows_only_its_own_class(embedded: str, ids: dict[str, str]) -> None:
    teacher = signed_in(embedded, TEACHER)
    screen, _ = paired(embedded, board_code(teacher, ids["oak"]))
    for other in (ids["willow"], ids["ash"], "no-such-class"):
        for tail in ("", "/total", "/live"):
            answer = screen.get(f"/api/board/classes/{other}{tail}")
            assert answer.status_code == 403, (other, tail, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
    with screen.stream("GET", f"/api/board/classes/{ids['oak']}/live") as own:
        assert own.status_code == 200
    assert screen.delete("/api/board/session").status_code == 204
    assert screen.get(f"/api/board/classes/{ids['oak']}").status_code == 401


def test_board_code_guessing_is_slowed(embedded: str, ids: dict[str, str]) -> None:
    """Last: it uses up the instance's budget (shared with the pupils' class codes)."""
    code = board_code(signed_in(embedded, TEACHER), ids["oak"])
    guesser = client_for(embedded)
    answers = [guesser.post("/api/board/session", json={"code": "ZZZZZZ"}) for _ in range(31)]
    refused = [a.status_code == 429 and a.headers["retry-after"].isdigit() for a in answers]
    assert any(refused) and not all(refused), [a.status_code for a in answers]
    first = refused.index(True)
    assert {a.status_code for a in answers[:first]} == {404}
    assert all(refused[first:])
    # refused before the code is even looked at: the right one waits too, and still works later
    assert guesser.post("/api/board/session", json={"code": code}).status_code == 429
