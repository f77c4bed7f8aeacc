"""The classroom screen: a teacher gives points, the class display and the parent's page follow
live (no reloading), an award can be undone, and pupils, leaders and reports see their part.
The class board: a classroom screen paired with a code shows a whole class and each point."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect
from schoolgate_kit.testing.waiting import GATEWAY_CAUGHT_UP_PATH, until_projected

from .steps import assert_accessible, open_page, sign_in  # type: ignore[import-not-found]

pytestmark = pytest.mark.browser
TEACHER = ("teacher@demo.school", "demo-teacher-pass")
PARENT = ("parent@demo.school", "demo-parent-pass")  # Ada's parent (demo.py)
LEADER = ("leader@demo.school", "demo-leader-pass")
LIVE = 5_000
"""Milliseconds a live update may take here; the pages themselves update within a second."""
NUMBER = re.compile(r"^\d+$")

# The teacher's phone counts the notes it plays instead of playing them.
RECORD_SOUNDS = """
window.notesPlayed = 0;
window.AudioContext = class {
  constructor() { this.state = "running"; this.currentTime = 0; this.destination = {}; }
  resume() { return Promise.resolve(); }
  createOscillator() {
    return {
      type: "", frequency: { setValueAtTime() {} }, connect() {}, stop() {},
      start() { window.notesPlayed += 1; },
    };
  }
  createGain() {
    return { gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} }, connect() {} };
  }
};
"""
# The class display has no sound at all: awarding and live updates must work regardless.
NO_AUDIO = "window.AudioContext = undefined; window.webkitAudioContext = undefined;"


async def teacher_phone(browser: Browser, base: str) -> Page:
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    await context.add_init_script(script=RECORD_SOUNDS)
    page = await context.new_page()
    await sign_in(page, base, *TEACHER)
    await expect(page.get_by_role("heading", level=1, name="Award points")).to_be_visible()
    return page


async def class_display(browser: Browser, base: str) -> Page:
    """The board at the front of the class: a big screen signed in as the same teacher."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    await context.add_init_script(script=NO_AUDIO)
    page = await context.new_page()
    await sign_in(page, base, *TEACHER)
    await expect(page.get_by_role("heading", level=1, name="Award points")).to_be_visible()
    return page


async def number(page: Page, selector: str) -> int:
    found = page.locator(selector)
    await expect(found).to_have_text(NUMBER)
    return int(await found.inner_text())


async def notes_played(page: Page) -> int:
    return int(await page.evaluate("window.notesPlayed"))


async def test_an_award_reaches_the_class_display_and_the_parent_live_and_can_be_undone(
    embedded: str, ids: dict[str, str], browser: Browser, phone: Page
) -> None:
    parent = phone
    await sign_in(parent, embedded, *PARENT)
    await expect(parent.get_by_role("heading", level=2, name="Ada", exact=True)).to_be_visible()
    week = f'.total[data-pupil="{ids["ada"]}"]'
    today = f'.today-total[data-pupil="{ids["ada"]}"]'
    ada_week, ada_today = await number(parent, week), await number(parent, today)
    await assert_accessible(parent)

    display = await class_display(browser, embedded)
    class_total = ".class-total-number"
    on_board = await number(display, class_total)
    await expect(display.get_by_role("button", name="Ada", exact=True)).to_be_visible()
    await assert_accessible(display)

    teacher = await teacher_phone(browser, embedded)
    await expect(teacher.locator(class_total)).to_have_text(str(on_board))
    await teacher.get_by_label("Effort").check()
    await teacher.get_by_role("button", name="Ada", exact=True).click()
    await expect(teacher.get_by_role("status")).to_have_text("Ada got a point for Effort.")
    assert await notes_played(teacher) > 0, "no sound was played for the point"

    # No one reloads: the display and the parent's page hear about it by themselves.
    await expect(display.locator(class_total)).to_have_text(str(on_board + 1), timeout=LIVE)
    await expect(parent.locator(week)).to_have_text(str(ada_week + 1), timeout=LIVE)
    await expect(parent.locator(today)).to_have_text(str(ada_today + 1), timeout=LIVE)
    await expect(teacher.locator(class_total)).to_have_text(str(on_board + 1), timeout=LIVE)
    await assert_accessible(teacher)  # with the undo bar showing
    await assert_accessible(parent)

    undo = teacher.get_by_role("button", name="Undo the point for Ada (Effort)")
    await expect(undo).to_be_visible()
    await undo.click()
    await expect(teacher.get_by_role("status")).to_have_text(
        "The point for Ada (Effort) is undone."
    )
    await expect(undo).to_have_count(0)
    await expect(display.locator(class_total)).to_have_text(str(on_board), timeout=LIVE)
    await expect(parent.locator(week)).to_have_text(str(ada_week), timeout=LIVE)
    await expect(parent.locator(today)).to_have_text(str(ada_today), timeout=LIVE)


async def test_a_parent_sets_a_daily_target_and_watches_it_being_reached(
    embedded: str, ids: dict[str, str], browser: Browser, phone: Page
) -> None:
    parent = phone
    await sign_in(parent, embedded, *PARENT)
    today = await number(parent, f'.today-total[data-pupil="{ids["ada"]}"]')
    aim = today + 1
    await parent.get_by_label("Daily target for Ada").fill(str(aim))
    await parent.get_by_role("button", name="Save target").click()
    await expect(parent.get_by_role("status")).to_have_text(
        f"Daily target saved: {aim} {'point' if aim == 1 else 'points'} a day for Ada."
    )
    progress = parent.get_by_role("progressbar", name=f"{today} of {aim}")
    await expect(progress).to_be_visible()
    await expect(parent.get_by_text("Target set by a parent or carer.")).to_be_visible()
    await assert_accessible(parent)

    teacher = await teacher_phone(browser, embedded)
    await teacher.get_by_label("Teamwork").check()
    await teacher.get_by_role("button", name="Ada", exact=True).click()
    await expect(teacher.get_by_role("status")).to_have_text("Ada got a point for Teamwork.")

    await expect(parent.get_by_text("Ada reached today's target. Well done!")).to_be_visible(
        timeout=LIVE
    )
    await expect(parent.get_by_role("progressbar", name=f"{aim} of {aim}")).to_be_visible()
    await expect(parent.locator(".weeks li.best")).to_contain_text("Best week")
    await assert_accessible(parent)


async def test_a_group_and_the_whole_class_get_points_in_one_go_and_the_sound_can_be_muted(
    embedded: str, browser: Browser
) -> None:
    teacher = await teacher_phone(browser, embedded)
    class_total = teacher.locator(".class-total-number")
    before = await number(teacher, ".class-total-number")

    await teacher.get_by_role("button", name="Choose several").click()
    await expect(teacher.get_by_role("button", name="Choose several")).to_have_attribute(
        "aria-pressed", "true"
    )
    await teacher.get_by_role("button", name="Ben", exact=True).click()
    await teacher.get_by_role("button", name="Cara", exact=True).click()
    await expect(teacher.get_by_role("button", name="Cara", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    await assert_accessible(teacher)
    await teacher.get_by_role("button", name="Give to 2 chosen").click()
    await expect(teacher.get_by_role("status")).to_have_text(
        "Ben and Cara got a point for Kindness."
    )
    await expect(class_total).to_have_text(str(before + 2), timeout=LIVE)

    await teacher.get_by_label("Play a sound for each point").uncheck()
    played = await notes_played(teacher)
    await teacher.get_by_role("button", name="Whole class").click()
    await expect(teacher.get_by_role("status")).to_have_text(
        "The whole class got a point for Kindness."
    )
    await expect(class_total).to_have_text(str(before + 2 + 5), timeout=LIVE)
    assert await notes_played(teacher) == played, "the sound played while muted"
    await expect(
        teacher.get_by_role("button", name="Undo the points for the whole class (Kindness)")
    ).to_be_visible()


async def test_a_pupil_sees_their_points_live_and_changes_their_monster(
    embedded: str, ids: dict[str, str], browser: Browser
) -> None:
    sam_l_today = f'.today-total[data-pupil="{ids["sam-l"]}"]'
    teacher = await teacher_phone(browser, embedded)
    await open_page(teacher, "Class code")
    await teacher.get_by_role("button", name="Show a class code").click()
    code = (await teacher.locator("#class-code").inner_text()).strip()

    tablet = await browser.new_page(viewport={"width": 800, "height": 1100}, has_touch=True)
    await tablet.goto(f"{embedded}/#pupil")
    await tablet.get_by_label("Class code").fill(code)
    await tablet.get_by_role("button", name="Next").click()
    await tablet.get_by_role("button", name="Sam L.").click()
    await expect(tablet.get_by_role("heading", name="Hello, Sam L.!")).to_be_visible()
    today = await number(tablet, sam_l_today)
    await expect(tablet.get_by_text("You do not have a daily target yet.")).to_be_visible()
    await assert_accessible(tablet)

    await open_page(teacher, "Award points")
    await teacher.get_by_role("button", name="Sam L.").click()
    await expect(teacher.get_by_role("status")).to_have_text("Sam L. got a point for Kindness.")
    await expect(tablet.locator(sam_l_today)).to_have_text(str(today + 1), timeout=LIVE)

    await tablet.get_by_text("Change my monster").click()
    await expect(tablet.get_by_role("radio", name="My monster now")).to_be_checked()
    choice = tablet.get_by_role("radio", name="Monster 2")
    seed = await choice.get_attribute("value")
    await tablet.get_by_text("Monster 2", exact=True).click()  # the radio is drawn as its picture
    await expect(choice).to_be_checked()
    await assert_accessible(tablet)
    await tablet.get_by_role("button", name="Save my monster").click()
    await expect(tablet.get_by_role("status")).to_have_text("Your new monster is saved!")
    await expect(tablet.get_by_role("radio", name="My monster now")).to_have_attribute(
        "value", seed or ""
    )

    pupils = await teacher.request.get(
        f"{embedded}/api/roster/schools/demo-school/classes/{ids['oak']}/pupils"
    )
    assert pupils.ok, await pupils.text()
    assert {p["pupil_id"]: p["avatar"] for p in await pupils.json()}[ids["sam-l"]] == seed


async def test_a_leader_turns_on_needs_work_points_and_reads_the_report(
    embedded: str, browser: Browser
) -> None:
    leader = await browser.new_page()
    await sign_in(leader, embedded, *LEADER)
    await open_page(leader, "Points settings")
    needs_work = leader.get_by_label("Allow “needs work” points")
    await expect(needs_work).not_to_be_checked()  # off unless a leader turns it on
    await expect(leader.get_by_label("Time to undo a point (seconds)")).to_have_value("60")
    await assert_accessible(leader)
    await needs_work.check()
    await leader.get_by_role("button", name="Save settings").click()
    await expect(leader.get_by_role("status")).to_have_text(
        "Saved. “Needs work” points are on; staff can undo a point for 60 seconds."
    )

    teacher = await teacher_phone(browser, embedded)
    await teacher.get_by_label("Needs work").check()
    await teacher.get_by_label("Effort").check()
    await teacher.get_by_role("button", name="Ben", exact=True).click()
    await expect(teacher.get_by_role("status")).to_have_text("Noted: Ben needs to work on Effort.")
    await teacher.get_by_label("Well done").check()
    await teacher.get_by_role("button", name="Ada", exact=True).click()
    await expect(teacher.get_by_role("status")).to_have_text("Ada got a point for Effort.")

    await open_page(leader, "Points report")
    await leader.get_by_label("Class").select_option(label="Oak")
    table = leader.get_by_role("table", name="Points by pupil and value, class Oak")
    await expect(table).to_be_visible()
    await expect(table.get_by_role("row", name=re.compile(r"^Ada"))).to_be_visible()
    await expect(table.get_by_role("columnheader", name="Needs work")).to_be_visible()
    await expect(table.get_by_role("row", name=re.compile(r"^Whole class"))).to_be_visible()
    await assert_accessible(leader)
    async with leader.expect_download() as downloading:
        await leader.get_by_role("link", name="Download CSV").click()
    download = await downloading.value
    path = await download.path()
    assert "Ada" in path.read_text(encoding="utf-8")

    await open_page(leader, "Points settings")
    await leader.get_by_label("Allow “needs work” points").uncheck()
    await leader.get_by_role("button", name="Save settings").click()
    await expect(leader.get_by_role("status")).to_contain_text("“Needs work” points are off")


async def test_a_teacher_sets_a_childs_daily_target(embedded: str, browser: Browser) -> None:
    teacher = await teacher_phone(browser, embedded)
    await open_page(teacher, "Daily targets")
    await teacher.get_by_label("Pupil").select_option(label="Cara Diaz")
    await teacher.get_by_label("Daily target for Cara Diaz").fill("4")
    await teacher.get_by_role("button", name="Save target").click()
    await expect(teacher.get_by_role("status")).to_have_text(
        "Daily target saved: 4 points a day for Cara Diaz."
    )
    await expect(
        teacher.get_by_text("Cara Diaz's target is 4 points a day, set by the teacher.")
    ).to_be_visible()
    await expect(teacher.get_by_label("Daily target for Cara Diaz")).to_be_focused()
    await assert_accessible(teacher)


# -- the class board, and awarding that never hides a child ---------------------------------
# The teacher gives points on a laptop while the board (paired with a code, no staff session
# on it) shows all 30 children of a class at once and celebrates each point as it lands.

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
