"""Stories, pupils' work and the family's news, in a real browser on real phones.

The demo school has two Year 3 classes: Ada is in Oak, Leo in Willow. Every demo pupil's
family agreed to photos except Cara's.
"""

from __future__ import annotations

import io
import re
import uuid
from datetime import datetime, timedelta

import pytest
from PIL import Image
from playwright.async_api import Browser, Locator, Page, expect

from .steps import (  # type: ignore[import-not-found]
    assert_accessible,
    new_phone,
    open_page,
    sign_in,
)

pytestmark = pytest.mark.browser
TEACHER = ("teacher@demo.school", "demo-teacher-pass")  # Oak, Year 3
PARENT = ("parent@demo.school", "demo-parent-pass")  # Ada, Oak
PARENT_2 = ("parent2@demo.school", "demo-parent2-pass")  # Leo, Willow
ALT = "Children planting sunflowers in the school garden"
SEEDS = "A tray of sunflower seeds"
SENT = "Sent! Your teacher will look at it soon."
UPLOADED = 30_000  # ms for uploads to be re-encoded and stored
CATCH_UP = 40  # tries, a quarter of a second apart, while read models catch up


def photo(colour: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    """A small real JPEG, as a phone's camera would send (only much smaller)."""
    picture = Image.new("RGB", (96, 64), colour)
    for x in range(0, 96, 8):  # some detail, so it is not one flat colour
        picture.putpixel((x, x % 64), (20, 90, 30))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90)
    return out.getvalue()


def jpeg(name: str, colour: tuple[int, int, int] = (200, 120, 40)) -> dict[str, object]:
    return {"name": name, "mimeType": "image/jpeg", "buffer": photo(colour)}


async def press_until(page: Page, button: str, found: Locator) -> None:
    """Press a "check again" button until `found` shows: projections catch up a moment later."""
    for _ in range(CATCH_UP):
        if await found.count():
            break
        await page.get_by_role("button", name=button).click()
        await expect(page.get_by_role("button", name=button)).to_be_enabled()
        await page.wait_for_timeout(250)
    await expect(found.first).to_be_visible()


async def loaded(image: Locator) -> None:
    """The picture's bytes really arrived (not just an <img> pointing somewhere)."""
    await expect(image).to_be_visible()
    await image.evaluate(
        "img => img.complete && img.naturalWidth > 0 ? true : new Promise((ok, fail) => {"
        " img.addEventListener('load', () => ok(true));"
        " img.addEventListener('error', () => fail(new Error('the image did not load')));"
        "})"
    )
    assert await image.evaluate("img => img.naturalWidth") > 0


def story_card(page: Page, text: str) -> Locator:
    return page.get_by_role("article").filter(has_text=text)


async def test_a_year_group_story_with_a_photo_reaches_both_classes_and_the_teacher_sees_a_like(
    embedded: str, browser: Browser
) -> None:
    story = f"We planted sunflowers today. Ask us how tall they will grow! ({uuid.uuid4().hex[:6]})"
    teacher = await new_phone(browser)
    await sign_in(teacher, embedded, *TEACHER)
    await open_page(teacher, "Post a story")
    await assert_accessible(teacher)

    await teacher.get_by_label("A year group").check()
    await teacher.get_by_label("Year group", exact=True).select_option(label="Year 3")
    await teacher.get_by_label("Your story").fill(story)
    await teacher.get_by_label("Add photos, a short video or a PDF").set_input_files(
        files=[jpeg("garden.jpg"), jpeg("seeds.jpg", (40, 160, 60))]  # type: ignore[list-item]
    )
    # two photos are made safe on the server one after the other: on a busy machine, seconds
    for label in ("Describe photo 1", "Describe photo 2"):
        await expect(teacher.get_by_label(label)).to_be_visible(timeout=UPLOADED)
    await teacher.get_by_label("Describe photo 1").fill(ALT)
    await teacher.get_by_label("Describe photo 2").fill(SEEDS)
    in_photo = teacher.get_by_role("group", name="Who is in photo 1?")
    # The whole year group's children can be tagged: Leo is in Willow, not the teacher's class.
    await expect(in_photo.get_by_label("Leo", exact=True)).to_be_visible()
    await in_photo.get_by_label("Cara", exact=True).check()
    await assert_accessible(teacher)

    # Photo 2 says nobody: whoever might be in it, it does not post until the teacher says.
    await teacher.get_by_role("button", name="Post", exact=True).click()
    await expect(teacher.get_by_role("alert")).to_contain_text("Say who is in photo 2")

    # One tap: nobody can be recognised in photo 2.
    in_photo_2 = teacher.get_by_role("group", name="Who is in photo 2?")
    await in_photo_2.get_by_label("No child can be recognised").check()
    # Cara's family did not agree to photos: the story is refused, saying so plainly.
    await teacher.get_by_role("button", name="Post", exact=True).click()
    await expect(teacher.get_by_role("alert")).to_contain_text("Cara")
    await expect(teacher.get_by_role("heading", name="Your story was not posted")).to_be_visible()
    await assert_accessible(teacher)

    # Naming a child in a photo unticks "nobody", and the other way round.
    await in_photo_2.get_by_label("Ada", exact=True).check()
    await expect(in_photo_2.get_by_label("No child can be recognised")).not_to_be_checked()
    await in_photo_2.get_by_label("No child can be recognised").check()
    await expect(in_photo_2.get_by_label("Ada", exact=True)).not_to_be_checked()

    await in_photo.get_by_label("Cara", exact=True).uncheck()
    await in_photo.get_by_label("Ada", exact=True).check()
    await teacher.get_by_role("button", name="Post", exact=True).click()
    await expect(teacher.get_by_role("status")).to_have_text("Your story is posted to Year 3.")

    # Two families with children in different classes of Year 3 both see it on their phones.
    parents = []
    for (email, password), child in ((PARENT, "Ada"), (PARENT_2, "Leo")):
        parent = await new_phone(browser)
        await sign_in(parent, embedded, email, password)
        await open_page(parent, "News")
        card = story_card(parent, story)
        await press_until(parent, "Check for news", card)
        await expect(card.get_by_text(f"For {child}")).to_be_visible()
        await loaded(card.get_by_role("img", name=ALT))
        await loaded(card.get_by_role("img", name=SEEDS))
        await assert_accessible(parent)
        parents.append(parent)

    ada_parent = parents[0]
    card = story_card(ada_parent, story)
    like = card.get_by_role("button", name="Like")
    await expect(like).to_have_attribute("aria-pressed", "false")
    await like.click()
    await expect(like).to_have_attribute("aria-pressed", "true")
    await expect(card.get_by_text("1 like", exact=True)).to_be_visible()
    await assert_accessible(ada_parent)

    # The teacher sees how many liked it and who.
    await open_page(teacher, "Our stories")
    mine = story_card(teacher, story)
    liked = mine.get_by_text("1 like: a parent or carer of Ada.")
    await press_until(teacher, "Check again", liked)
    await expect(mine.get_by_role("img", name=ALT)).to_be_visible()
    await assert_accessible(teacher)

    # The like is remembered (the page asks afresh), and it can be taken back.
    for _ in range(CATCH_UP):
        await ada_parent.get_by_role("button", name="Check for news").click()
        await expect(ada_parent.get_by_role("button", name="Check for news")).to_be_enabled()
        if await like.get_attribute("aria-pressed") == "true":
            break
        await ada_parent.wait_for_timeout(250)
    await expect(like).to_have_attribute("aria-pressed", "true")
    await like.click()
    await expect(like).to_have_attribute("aria-pressed", "false")
    await expect(card.get_by_text("1 like", exact=True)).to_have_count(0)


async def test_a_teacher_edits_and_deletes_a_story(embedded: str, browser: Browser) -> None:
    story = f"Sports day is on Friday ({uuid.uuid4().hex[:6]})"
    teacher = await new_phone(browser)
    await sign_in(teacher, embedded, *TEACHER)
    await open_page(teacher, "Post a story")
    await teacher.get_by_label("Your story").fill(story)
    await teacher.get_by_role("button", name="Post", exact=True).click()
    await expect(teacher.get_by_role("status")).to_have_text("Your story is posted to Class Oak.")

    await open_page(teacher, "Our stories")
    card = story_card(teacher, story)
    await press_until(teacher, "Check again", card)
    await card.get_by_role("button", name="Edit").click()
    edited = f"{story}: bring a water bottle"
    await teacher.get_by_label("Your story").fill(edited)
    await assert_accessible(teacher)
    await teacher.get_by_role("button", name="Save changes").click()
    await expect(teacher.get_by_role("status")).to_have_text("Saved. Families see the new version.")
    await expect(story_card(teacher, edited)).to_be_visible()

    parent = await new_phone(browser)
    await sign_in(parent, embedded, *PARENT)
    await open_page(parent, "News")
    await press_until(parent, "Check for news", story_card(parent, edited))

    await story_card(teacher, edited).get_by_role("button", name="Delete").click()
    await teacher.get_by_role("button", name="Yes, delete it").click()
    await expect(teacher.get_by_role("status")).to_have_text(
        "The story is deleted. Families no longer see it."
    )
    for _ in range(CATCH_UP):
        await parent.get_by_role("button", name="Check for news").click()
        await expect(parent.get_by_role("button", name="Check for news")).to_be_enabled()
        if not await story_card(parent, edited).count():
            break
        await parent.wait_for_timeout(250)
    await expect(story_card(parent, edited)).to_have_count(0)


async def pupil_signs_in(browser: Browser, base: str, code: str, name: str) -> Page:
    tablet = await browser.new_page(viewport={"width": 800, "height": 1100}, has_touch=True)
    await tablet.goto(base)
    await tablet.get_by_role("link", name="Pupils: sign in with your class code").click()
    await tablet.get_by_label("Class code").fill(code)
    await tablet.get_by_role("button", name="Next").click()
    await tablet.get_by_role("button", name=name, exact=True).click()
    await expect(tablet.get_by_role("heading", name=f"Hello, {name}!")).to_be_visible()
    return tablet


async def test_a_pupil_hands_in_home_learning_the_teacher_approves_and_the_family_sees_it(
    embedded: str, browser: Browser
) -> None:
    task = f"Draw your favourite animal ({uuid.uuid4().hex[:6]})"
    teacher = await new_phone(browser)
    await sign_in(teacher, embedded, *TEACHER)
    await open_page(teacher, "Home learning")
    await teacher.get_by_label("Title").fill(task)
    await teacher.get_by_label("What to do").fill("Draw it, then tell us why you like it.")
    await teacher.get_by_role("button", name="Set home learning").click()
    await expect(teacher.get_by_role("status")).to_contain_text(f"Home learning set: {task}.")
    await assert_accessible(teacher)

    await open_page(teacher, "Class code")
    await teacher.get_by_role("button", name="Show a class code").click()
    code = (await teacher.locator("#class-code").inner_text()).strip()
    pupil = await pupil_signs_in(browser, embedded, code, "Ada")
    await open_page(pupil, "My work")
    await assert_accessible(pupil)

    words = f"My cat Pixel. She is fluffy and funny. ({uuid.uuid4().hex[:6]})"
    homework = pupil.get_by_role("article").filter(has_text=task)
    await homework.get_by_role("button", name="Hand this in").click()
    await pupil.get_by_label("Add a photo of your work").set_input_files(
        files=[jpeg("cat.jpg", (90, 90, 200))]  # type: ignore[list-item]
    )
    await expect(pupil.get_by_label("Describe photo 1")).to_be_visible()
    await pupil.get_by_label("Tell us about it").fill(words)
    await expect(pupil.get_by_label("Is it home learning?")).to_have_value(re.compile(".+"))
    await pupil.get_by_role("button", name="Send to my teacher").click()
    await expect(pupil.get_by_role("status")).to_have_text(
        "Sent! Your teacher will look at it soon."
    )
    mine = story_card(pupil, words)
    await expect(mine.get_by_text("Waiting for your teacher to look at it")).to_be_visible()
    await assert_accessible(pupil)

    # The family sees the task for Ada's class and that she handed it in, not yet the work.
    parent = await new_phone(browser)  # 390 x 844
    await sign_in(parent, embedded, *PARENT)
    await open_page(parent, "Home learning")
    set_for_ada = parent.get_by_role("article").filter(has_text=task)
    await press_until(
        parent, "Check again", set_for_ada.get_by_text("Ada handed this in. You will see it")
    )
    await expect(set_for_ada.get_by_text(words)).to_have_count(0)

    await open_page(teacher, "Home learning")
    task_card = teacher.get_by_role("article").filter(has_text=task)
    await task_card.get_by_role("button", name="Who has handed it in?").click()
    handed_in = task_card.get_by_role("table", name=f"Who has handed in “{task}”")
    await expect(
        handed_in.get_by_role("row", name="Ada Handed in: waiting for you")
    ).to_be_visible()
    await expect(handed_in.get_by_role("row", name="Ben Not yet")).to_be_visible()

    await open_page(teacher, "Approve work")
    waiting = story_card(teacher, words)
    await press_until(teacher, "Check again", waiting)
    await expect(waiting.get_by_role("heading", name="Ada's work")).to_be_visible()
    await assert_accessible(teacher)
    await waiting.get_by_role("button", name="Approve").click()
    await expect(teacher.get_by_role("status")).to_have_text(
        "Approved. Ada's family can see it now."
    )

    await open_page(parent, "News")
    work = story_card(parent, words)
    await press_until(parent, "Check for news", work)
    await expect(work.get_by_role("heading", name="Ada's work")).to_be_visible()
    await loaded(work.get_by_role("img").first)
    await assert_accessible(parent)

    # Once approved, home learning shows what she handed in, on a phone-wide page.
    await open_page(parent, "Home learning")
    await expect(set_for_ada.get_by_text("the teacher approved it")).to_be_visible()
    await expect(set_for_ada.get_by_text(words)).to_be_visible()
    await loaded(set_for_ada.get_by_role("img").first)
    await assert_accessible(parent)
    widths = await parent.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide on a {widths[1]} px phone"

    await pupil.reload()
    await expect(story_card(pupil, words).get_by_text("On show to your family")).to_be_visible()


async def test_work_sent_back_shows_the_teachers_note_and_can_be_sent_again(
    embedded: str, browser: Browser
) -> None:
    teacher = await new_phone(browser)
    await sign_in(teacher, embedded, *TEACHER)
    await open_page(teacher, "Class code")
    await teacher.get_by_role("button", name="Show a class code").click()
    code = (await teacher.locator("#class-code").inner_text()).strip()
    pupil = await pupil_signs_in(browser, embedded, code, "Ben")
    await open_page(pupil, "My work")
    words = f"My story about a dragon ({uuid.uuid4().hex[:6]})"
    await pupil.get_by_label("Tell us about it").fill(words)
    await pupil.get_by_role("button", name="Send to my teacher").click()
    await expect(pupil.get_by_role("status")).to_have_text(
        "Sent! Your teacher will look at it soon."
    )

    await open_page(teacher, "Approve work")
    waiting = story_card(teacher, words)
    await press_until(teacher, "Check again", waiting)
    await waiting.get_by_role("button", name="Send back").click()
    await expect(teacher.get_by_role("alert")).to_have_text(
        "Write a note for Ben first, so they know what to change."
    )
    await waiting.get_by_label("Note for Ben").fill("Please add an ending to your story.")
    await waiting.get_by_role("button", name="Send back").click()
    await expect(teacher.get_by_role("status")).to_have_text("Sent back to Ben with your note.")

    await pupil.reload()
    mine = story_card(pupil, words)
    await expect(mine.get_by_text("Sent back by your teacher")).to_be_visible()
    await expect(mine.get_by_text("Please add an ending to your story.")).to_be_visible()
    await assert_accessible(pupil)
    await mine.get_by_role("button", name="Change it and send it again").click()
    await expect(pupil.get_by_label("Tell us about it")).to_have_value(words)
    await pupil.get_by_label("Tell us about it").fill(f"{words} The end.")
    await pupil.get_by_role("button", name="Send it again", exact=True).click()
    await expect(pupil.get_by_role("status")).to_have_text(
        "Sent! Your teacher will look at it soon."
    )
    await expect(
        story_card(pupil, f"{words} The end.").get_by_text("Waiting for your teacher to look at it")
    ).to_be_visible()


async def test_a_scheduled_story_waits_and_comments_come_only_when_the_school_allows(
    embedded: str, browser: Browser
) -> None:
    teacher = await new_phone(browser)
    await sign_in(teacher, embedded, *TEACHER)
    await open_page(teacher, "Post a story")
    later = f"The school play is next week ({uuid.uuid4().hex[:6]})"
    tomorrow = (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%dT09:00")
    await teacher.get_by_label("Your story").fill(later)
    await teacher.get_by_label("Publish later").check()
    await teacher.get_by_label("Show it to families from").fill(tomorrow)
    await assert_accessible(teacher)
    await teacher.get_by_role("button", name="Post", exact=True).click()
    await expect(teacher.get_by_role("status")).to_contain_text(
        "Your story for Class Oak will show from"
    )
    now = f"Well done to everyone in assembly ({uuid.uuid4().hex[:6]})"
    await teacher.get_by_label("Your story").fill(now)
    await teacher.get_by_role("button", name="Post", exact=True).click()
    await expect(teacher.get_by_role("status")).to_have_text("Your story is posted to Class Oak.")

    await open_page(teacher, "Our stories")
    await press_until(teacher, "Check again", story_card(teacher, later))
    await expect(
        story_card(teacher, later).get_by_text(re.compile("^Scheduled: families will see it"))
    ).to_be_visible()

    parent = await new_phone(browser)
    await sign_in(parent, embedded, *PARENT)
    await open_page(parent, "News")
    await press_until(parent, "Check for news", story_card(parent, now))
    await expect(story_card(parent, later)).to_have_count(0)
    await expect(story_card(parent, now).get_by_label("Add a comment")).to_have_count(0)

    leader = await new_phone(browser)
    await sign_in(leader, embedded, "leader@demo.school", "demo-leader-pass")
    await open_page(leader, "Story settings")
    await leader.get_by_label("Let families comment on stories").check()
    await leader.get_by_role("button", name="Save settings").click()
    await expect(leader.get_by_role("status")).to_have_text("Saved. Comments on stories are on.")
    await assert_accessible(leader)

    await parent.reload()
    card = story_card(parent, now)
    await card.get_by_label("Add a comment").fill("Thank you, she loved it!")
    await card.get_by_role("button", name="Send comment").click()
    await expect(parent.get_by_role("status")).to_have_text("Your comment is added.")
    await expect(card.get_by_text("Thank you, she loved it!")).to_be_visible()
    await assert_accessible(parent)

    await teacher.reload()
    await expect(story_card(teacher, now).get_by_text("Thank you, she loved it!")).to_be_visible()


async def test_a_long_link_in_a_story_does_not_widen_a_phones_page(
    embedded: str, browser: Browser
) -> None:
    link = "https://example.org/letters?id=" + "x" * 300 + uuid.uuid4().hex  # no place to break
    story = f"The trip letter is here: {link}"
    teacher = await new_phone(browser)
    await sign_in(teacher, embedded, *TEACHER)
    await open_page(teacher, "Post a story")
    await teacher.get_by_label("Your story").fill(story)
    await teacher.get_by_role("button", name="Post", exact=True).click()
    await expect(teacher.get_by_role("status")).to_have_text("Your story is posted to Class Oak.")

    parent = await new_phone(browser)  # 390 px wide
    await sign_in(parent, embedded, *PARENT)
    await open_page(parent, "News")
    await press_until(parent, "Check for news", story_card(parent, "The trip letter is here"))
    widths = await parent.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide on a {widths[1]} px phone"
