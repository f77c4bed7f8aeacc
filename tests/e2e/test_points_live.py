"""Issue 4 through the gateway, as `make run` serves it: the classroom and the family pages
hear of an award as it is given (server-sent events), only the people who may see it can
listen, and a pupil's chosen monster shows wherever they are listed. The class board: a
classroom screen that typed a teacher's board code shows the class (first names, monsters,
the total) and its well-done points live, and its session reads that board and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from schoolgate_kit.testing.waiting import GATEWAY_CAUGHT_UP_PATH, until_projected_sync

from ..conftest import until  # type: ignore[import-not-found]
from .conftest import client_for, signed_in  # type: ignore[import-not-found]

TEACHER = {"email": "teacher@demo.school", "password": "demo-teacher-pass"}
ASSISTANT = {"email": "ta@demo.school", "password": "demo-assistant-pass"}
LEADER = {"email": "leader@demo.school", "password": "demo-leader-pass"}
OFFICE = {"email": "office@demo.school", "password": "demo-office-pass"}
PARENT = {"email": "parent@demo.school", "password": "demo-parent-pass"}
SCHOOL = "demo-school"
GENEROUS = 10.0
"""Seconds to wait for news that normally comes within milliseconds: never a timing assert."""


class Stream:
    """A live stream read in the background: its events, in order, as (name, data)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.events: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        name, data = "", ""
        async for line in self.response.aiter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = line.removeprefix("data: ")
            elif not line and name:
                await self.events.put((name, json.loads(data)))
                name, data = "", ""

    async def next(self, wanted: str = "points") -> dict[str, Any]:
        """The next event of that name (others are skipped), within a generous wait."""
        async with asyncio.timeout(GENEROUS):
            while True:
                name, data = await self.events.get()
                if name == wanted:
                    return data

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


@contextlib.asynccontextmanager
async def listening(client: httpx.Client, path: str) -> AsyncIterator[Stream]:
    """Open a live stream with a signed-in browser's cookies, once it said it is ready."""
    async with (
        httpx.AsyncClient(base_url=str(client.base_url), cookies=client.cookies) as browser,
        browser.stream("GET", path, timeout=httpx.Timeout(20, read=None)) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = Stream(response)
        try:
            await stream.next("ready")
            yield stream
        finally:
            await stream.close()


def summary(parent: httpx.Client, pupil: str, after: int) -> dict[str, Any]:
    answer = parent.get(f"/api/points/schools/{SCHOOL}/pupils/{pupil}/summary?after={after}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def shows(parent: httpx.Client, pupil: str, after: int, total: int) -> None:
    """The page's follow-up with ``?after=``: it waits for the position, up to a limit, so on
    a busy machine it may take asking again (tests never bet on time)."""
    await until(
        lambda: summary(parent, pupil, after)["week"]["total"] == total,
        within=GENEROUS,
        why=f"{pupil}'s week total {total} after position {after}",
    )


async def test_an_award_reaches_the_class_and_the_parent_as_it_is_given(
    embedded: str, ids: dict[str, str]
) -> None:
    teacher, parent = signed_in(embedded, TEACHER), signed_in(embedded, PARENT)
    ada, oak = ids["ada"], ids["oak"]
    before = summary(parent, ada, 0)["week"]["total"]
    async with (
        listening(teacher, f"/api/live/classes/{oak}") as classroom,
        listening(parent, f"/api/live/pupils/{ada}") as family,
    ):
        answer = teacher.post(
            "/api/awards", json={"pupil_id": ada, "school_way_id": ids["kindness"]}
        )
        assert answer.status_code == 201, answer.text
        award_id = answer.json()["award_id"]
        heard = [await classroom.next(), await family.next()]
        for news in heard:
            assert news["award_id"] == award_id
            assert (news["pupil_id"], news["class_id"], news["kind"]) == (ada, oak, "positive")
            assert news["undone"] is False
        position = heard[1]["position"]
        assert heard[0]["position"] == position
        # the family page's follow-up: the summary once it includes that position
        await shows(parent, ada, position, before + 1)

        undone = teacher.post(f"/api/awards/{award_id}/undo")
        assert undone.status_code == 200, undone.text
        for stream in (classroom, family):
            news = await stream.next()
            assert (news["award_id"], news["undone"]) == (award_id, True)
        await shows(parent, ada, news["position"], before)


async def test_the_class_hears_of_every_pupil_and_a_parent_only_of_their_own(
    embedded: str, ids: dict[str, str]
) -> None:
    teacher, parent = signed_in(embedded, TEACHER), signed_in(embedded, PARENT)
    ada, ben, oak = ids["ada"], ids["ben"], ids["oak"]
    async with (
        listening(teacher, f"/api/live/classes/{oak}") as classroom,
        listening(parent, f"/api/live/pupils/{ada}") as family,
    ):
        group = teacher.post(
            "/api/awards", json={"pupil_ids": [ben, ada], "school_way_id": ids["teamwork"]}
        )
        assert group.status_code == 201, group.text
        award_id = group.json()["award_id"]
        pupils = {(await classroom.next())["pupil_id"] for _ in range(2)}
        assert pupils == {ben, ada}
        news = await family.next()
        assert (news["pupil_id"], news["award_id"]) == (ada, award_id)
        with pytest.raises(TimeoutError):  # Ben's point is not Ada's family's news
            async with asyncio.timeout(0.5):
                await family.events.get()

        odd = {"pupil_id": ada, "school_way_id": ids["effort"], "kind": "sideways"}
        assert teacher.post("/api/awards", json=odd).status_code == 422
        whole = {"whole_class": True, "school_way_id": ids["effort"], "class_id": oak}
        everyone = teacher.post("/api/awards", json=whole)
        assert everyone.status_code == 201, everyone.text
        class_size = len(everyone.json()["pupil_ids"])
        assert class_size >= 5
        heard = [await classroom.next() for _ in range(class_size)]
        assert {n["pupil_id"] for n in heard} == set(everyone.json()["pupil_ids"])
        assert {n["award_id"] for n in heard} == {everyone.json()["award_id"]}
        assert (await family.next())["award_id"] == everyone.json()["award_id"]


def test_a_parent_cannot_follow_another_pupil(embedded: str, ids: dict[str, str]) -> None:
    parent = signed_in(embedded, PARENT)
    ben, oak = ids["ben"], ids["oak"]
    for path in (f"/api/live/pupils/{ben}", "/api/live/pupils/nobody", f"/api/live/classes/{oak}"):
        refused = parent.get(path)
        assert refused.status_code == 403, path
        assert refused.headers["content-type"] == "application/problem+json"


def test_a_teaching_assistant_follows_only_their_own_class(
    embedded: str, ids: dict[str, str]
) -> None:
    assistant = signed_in(embedded, ASSISTANT)
    refused = assistant.get(f"/api/live/classes/{ids['ash']}")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    with assistant.stream("GET", f"/api/live/classes/{ids['oak']}") as allowed:
        assert allowed.status_code == 200
    with assistant.stream("GET", f"/api/live/pupils/{ids['dev']}") as staff_of_the_school:
        assert staff_of_the_school.status_code == 200


def test_leaders_follow_any_class_of_their_school_and_others_are_refused(
    embedded: str, ids: dict[str, str]
) -> None:
    leader = signed_in(embedded, LEADER)
    with leader.stream("GET", f"/api/live/classes/{ids['ash']}") as allowed:
        assert allowed.status_code == 200
    assert leader.get("/api/live/classes/no-such-class").status_code == 404
    # the source id a school's own records use is not a class id here
    assert leader.get("/api/live/classes/ash").status_code == 404
    office = signed_in(embedded, OFFICE)
    assert office.get(f"/api/live/classes/{ids['oak']}").status_code == 403
    anonymous = client_for(embedded)
    for path in (f"/api/live/classes/{ids['oak']}", f"/api/live/pupils/{ids['ada']}"):
        answer = anonymous.get(path)
        assert answer.status_code == 401
        assert answer.headers["content-type"] == "application/problem+json"


async def test_a_pupil_hears_of_their_own_points(embedded: str, ids: dict[str, str]) -> None:
    teacher = signed_in(embedded, TEACHER)
    cara = ids["cara"]
    code = teacher.post(f"/api/classes/{ids['oak']}/code").json()["code"]
    tablet = client_for(embedded)
    assert tablet.post("/api/pupil/session", json={"code": code, "pupil_id": cara}).is_success
    assert tablet.get(f"/api/live/pupils/{ids['ben']}").status_code == 403
    async with listening(tablet, f"/api/live/pupils/{cara}") as own:
        award = {"pupil_id": cara, "school_way_id": ids["effort"]}
        answer = teacher.post("/api/awards", json=award)
        assert answer.status_code == 201, answer.text
        assert (await own.next())["award_id"] == answer.json()["award_id"]


async def test_a_chosen_monster_shows_in_the_class_list_and_to_the_family(
    embedded: str, ids: dict[str, str]
) -> None:
    teacher, parent = signed_in(embedded, TEACHER), signed_in(embedded, PARENT)
    ada, ben, oak = ids["ada"], ids["ben"], ids["oak"]
    code = teacher.post(f"/api/classes/{oak}/code").json()["code"]
    tablet = client_for(embedded)
    assert tablet.post("/api/pupil/session", json={"code": code, "pupil_id": ada}).is_success
    path = f"/api/roster/schools/{SCHOOL}/pupils/{ada}/avatar"
    chosen = tablet.put(path, json={"avatar": "sea-dragon-4"})
    assert chosen.status_code == 200, chosen.text
    assert parent.put(path, json={"avatar": "parents-choice"}).status_code == 403
    bens = teacher.put(
        f"/api/roster/schools/{SCHOOL}/pupils/{ben}/avatar", json={"avatar": "owl-2"}
    )
    assert bens.status_code == 200, bens.text

    def avatars() -> dict[str, str]:
        listed = teacher.get(f"/api/roster/schools/{SCHOOL}/classes/{oak}/pupils").json()
        return {p["pupil_id"]: p["avatar"] for p in listed}

    # Ben's is the later choice: once it is projected, so is Ada's
    until_projected_sync(teacher, bens, path=GATEWAY_CAUGHT_UP_PATH)
    shown = avatars()
    assert (shown.get(ada), shown.get(ben)) == ("sea-dragon-4", "owl-2"), "the class list"
    family = parent.get("/api/me").json()["children"][0]["avatar"]
    assert family == "sea-dragon-4", "the family's page shows Ada's monster"
    assert tablet.get("/api/me").json()["children"][0]["avatar"] == "sea-dragon-4"
    pictures = client_for(embedded).post("/api/pupil/class", json={"code": code}).json()
    assert {p["pupil_id"]: p["avatar"] for p in pictures["pupils"]}[ada] == "sea-dragon-4"


# -- the class board: a classroom screen paired with a code, reading its class and nothing else


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
    off = {"needs_work_enabled": False, "undo_window_seconds": 60}
    assert leader.put(settings, json=off).status_code == 200  # as the module's tests found it


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


async def test_message_news_reaches_the_class_and_only_the_family_in_it(
    embedded: str, ids: dict[str, str]
) -> None:
    teacher, parent = signed_in(embedded, TEACHER), signed_in(embedded, PARENT)
    other = signed_in(embedded, {"email": "parent2@demo.school", "password": "demo-parent2-pass"})
    messaging = f"/api/messaging/schools/{SCHOOL}"
    started = parent.post(
        f"{messaging}/conversations", json={"pupil_id": ids["ada"], "text": "Ada lost a tooth"}
    )
    assert started.status_code == 201, started.text
    conversation = started.json()["conversation_id"]
    until_projected_sync(parent, started, path=GATEWAY_CAUGHT_UP_PATH)
    # somebody else's conversation cannot be followed, nor messages by a pupil's tablet
    refused = other.get(f"/api/live/messages?conversation={conversation}")
    assert refused.status_code == 404, refused.text
    assert client_for(embedded).get("/api/live/messages").status_code == 401
    async with (
        listening(teacher, "/api/live/messages") as classroom,
        listening(parent, f"/api/live/messages?conversation={conversation}") as family,
        listening(other, "/api/live/messages") as elsewhere,
    ):
        replied = teacher.post(
            f"{messaging}/conversations/{conversation}/messages",
            json={"text": "Thank you, we will tell the tooth fairy"},
        )
        assert replied.status_code == 201, replied.text
        for stream in (classroom, family):
            news = await stream.next("messages")
            assert news["conversation_id"] == conversation and news["what"] == "sent"
            assert "tooth" not in json.dumps(news)  # which conversation, never what was said
        # the other family hears only what is theirs: their own message comes first
        mine = other.post(
            f"{messaging}/conversations", json={"pupil_id": ids["leo"], "text": "Leo is fine"}
        )
        assert mine.status_code == 201, mine.text
        heard = await elsewhere.next("messages")
        assert heard["conversation_id"] == mine.json()["conversation_id"]
