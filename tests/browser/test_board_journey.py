"""The class board on the classroom screen, and awarding that never hides a child: a teacher
gives points on a laptop while the board (paired with a code, no staff session on it) shows
all 30 children of a class at once and celebrates each point as it lands."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect
from schoolgate_kit.testing.waiting import GATEWAY_CAUGHT_UP_PATH, until_projected

from .steps import assert_accessible, open_page, sign_in  # type: ignore[import-not-found]
from .test_classroom_journey import (  # type: ignore[import-not-found]
    LEADER,
    LIVE,
    NUMBER,
    RECORD_SOUNDS,
    TEACHER,
    notes_played,
)

pytestmark = pytest.mark.browser
LAPTOP = {"width": 1366, "height": 768}
BOARD = {"width": 1920, "height": 1080}
ROSTER = "/api/roster/schools/demo-school"
FIRST_NAMES = [
    *("Amara", "Beatrix", "Cleo", "Dmitri", "Elif", "Farah", "Gus", "Hana", "Ivo", "Jun"),
    *("Kofi", "Lena", "Milo", "Nia", "Omar", "Pia", "Quinn", "Rosa", "Sami", "Tova"),
    *("Uma", "Vik", "Wren", "Xena", "Yara", "Zed", "Alba", "Bodhi", "Cyra"),
    "Maximiliana-Josefina",  # a long name takes two lines, never widens the page
]
# The children whose pictures are under something the page put over them (none, always).
COVERED = """() => {
  const over = [...document.querySelectorAll(".undo-list li, #status, #alert")]
    .map((el) => el.getBoundingClientRect()).filter((r) => r.width && r.height);
  return [...document.querySelectorAll("button.picture")].filter((tile) => {
    const t = tile.getBoundingClientRect();
    const meets = (b) =>
      b.left < t.right && t.left < b.right && b.top < t.bottom && t.top < b.bottom;
    if (over.some(meets)) return true;
    const [x, y] = [t.left + t.width / 2, t.top + t.height / 2];
    return y > 0 && y < innerHeight && !tile.contains(document.elementFromPoint(x, y));
  }).map((tile) => tile.textContent);
}"""
OVERFLOW = "document.documentElement.scrollWidth > window.innerWidth"


async def laptop(browser: Browser, base: str, who: tuple[str, str]) -> Page:
    context = await browser.new_context(viewport=LAPTOP)
    page = await context.new_page()
    await page.clock.install()  # time runs as usual until the test moves it on
    await sign_in(page, base, *who)
    return page


async def test_points_given_on_a_laptop_never_hide_a_child_and_count_repeats(
    embedded: str, browser: Browser
) -> None:
    teacher = await laptop(browser, embedded, TEACHER)
    await expect(teacher.get_by_role("heading", level=1, name="Award points")).to_be_visible()
    await teacher.get_by_label("Effort").check()
    ada = teacher.get_by_role("button", name="Ada", exact=True)
    for _ in range(3):
        await ada.click()
    status = teacher.get_by_role("status")
    await expect(status).to_have_text("Ada got 3 points for Effort.")
    undo = teacher.get_by_role("button", name="Undo one of the 3 points for Ada (Effort)")
    await expect(undo).to_be_visible()
    await teacher.get_by_role("button", name="Ben", exact=True).click()
    await expect(status).to_have_text("Ben got a point for Effort.")
    assert await teacher.evaluate(COVERED) == []
    assert not await teacher.evaluate(OVERFLOW)
    await assert_accessible(teacher)

    await undo.click()
    await expect(status).to_have_text("A point for Ada (Effort) is undone.")
    await expect(
        teacher.get_by_role("button", name="Undo one of the 2 points for Ada (Effort)")
    ).to_be_visible()
    await teacher.clock.fast_forward(6_000)  # a message goes by itself, a little later
    await expect(status).to_have_text("")
    assert await teacher.evaluate(COVERED) == []


async def test_the_board_shows_a_class_of_30_and_a_point_given_elsewhere_lands_live(
    embedded: str, ids: dict[str, str], browser: Browser
) -> None:
    leader = await laptop(browser, embedded, LEADER)
    made = await leader.request.post(
        f"{embedded}{ROSTER}/classes", data={"name": "Maple", "year_group_id": ids["y4"]}
    )
    assert made.ok, await made.text()
    maple = (await made.json())["class_id"]
    for first in FIRST_NAMES:
        added = await leader.request.post(
            f"{embedded}{ROSTER}/pupils",
            data={"first_name": first, "surname": "Board", "class_id": maple},
        )
        assert added.ok, await added.text()
    await until_projected(
        embedded, int(added.headers["x-schoolgate-position"]), path=GATEWAY_CAUGHT_UP_PATH
    )

    await leader.reload()  # the leader's classes, Maple now among them
    await open_page(leader, "Class board")
    await leader.get_by_label("Class", exact=True).select_option(label="Maple")
    await leader.get_by_role("button", name="Show a board code").click()
    code = (await leader.locator("#board-code").inner_text()).strip()
    assert re.fullmatch(r"[A-Z0-9]{6}", code), code
    assert not await leader.evaluate(OVERFLOW)
    await assert_accessible(leader)

    # the classroom screen: nobody signed in on it, sound counted, motion kept still
    context = await browser.new_context(viewport=BOARD, reduced_motion="reduce")
    await context.add_init_script(script=RECORD_SOUNDS)
    board = await context.new_page()
    await board.goto(f"{embedded}/#board")
    await assert_accessible(board)
    await board.get_by_label("Board code").fill(code.lower())
    await board.get_by_role("button", name="Show the board").click()
    await expect(board.get_by_role("heading", level=1, name="Class Maple")).to_be_visible()
    total = board.locator(".board-total-number")
    await expect(total).to_have_text(NUMBER)
    before = int(await total.inner_text())
    tiles = board.locator(".board-pupil")
    await expect(tiles).to_have_count(30)
    await expect(board.get_by_role("navigation")).to_have_count(0)
    await expect(board.get_by_role("button", name="Sign out")).to_be_hidden()
    for box in [await tiles.nth(i).bounding_box() for i in range(30)]:
        assert box is not None and box["width"] >= 150, box  # big enough to see from the back
        assert box["x"] >= 0 and box["x"] + box["width"] <= BOARD["width"], box
        assert box["y"] >= 0 and box["y"] + box["height"] <= BOARD["height"], box
    assert await board.evaluate("document.documentElement.scrollHeight <= window.innerHeight")
    assert not await board.evaluate(OVERFLOW)
    await assert_accessible(board)

    # the leader gives three points on the laptop; each lands on the board, none hides a child
    await open_page(leader, "Award points")
    await leader.get_by_label("Class", exact=True).select_option(label="Maple")
    played = await notes_played(board)
    for n, name in enumerate(("Cleo", "Zed", "Maximiliana-Josefina"), start=1):
        await leader.get_by_role("button", name=name, exact=True).click()
        await expect(leader.get_by_role("status")).to_have_text(
            re.compile(f"^{re.escape(name)} got a point")
        )
        tile = board.locator(".board-pupil", has_text=name)
        await expect(tile).to_have_class(re.compile("landed"), timeout=LIVE)
        await expect(total).to_have_text(str(before + n), timeout=LIVE)
    assert await tile.evaluate("(tile) => getComputedStyle(tile).animationName") == "none"
    assert await notes_played(board) > played, "the board played no sound for the points"
    assert await leader.evaluate(COVERED) == []
    assert not await leader.evaluate(OVERFLOW)
