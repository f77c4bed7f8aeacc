"""A parent downloads everything the school holds about them, then closes their account; a
leader downloads a leaver's record and erases it. On a phone, in a real browser, axe-clean."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from playwright.async_api import Page, expect

from .steps import assert_accessible, open_page, sign_in  # type: ignore[import-not-found]

pytestmark = pytest.mark.browser
PARENT = ("parent2@demo.school", "demo-parent2-pass")  # Leo's parent


async def download(page: Page, button: str) -> dict[str, bytes]:
    await page.get_by_role("button", name=button).click()
    link = page.get_by_role("link", name="Download (zip)")
    await expect(link).to_be_visible(timeout=30_000)
    async with page.expect_download() as waiting:
        await link.click()
    saved = await (await waiting.value).path()
    with zipfile.ZipFile(io.BytesIO(saved.read_bytes())) as opened:
        return {name: opened.read(name) for name in opened.namelist()}


async def test_a_parent_downloads_their_data_then_closes_their_account(
    embedded: str, phone: Page
) -> None:
    parent = phone
    await sign_in(parent, embedded, *PARENT)
    await open_page(parent, "Your account")
    files = await download(parent, "Download my data")
    data = json.loads(files["data.json"])
    assert [child["first_name"] for child in data["children"]] == ["Leo"]
    assert b"Ada" not in b"".join(files.values())  # another family's child
    await assert_accessible(parent)

    await parent.get_by_label("Your password").fill(PARENT[1])
    await parent.get_by_label("I understand this cannot be undone.").check()
    await parent.get_by_role("button", name="Close my account").click()
    await expect(parent.get_by_role("button", name="Sign in")).to_be_visible()
    await expect(parent.get_by_text("Your account is closed.")).to_be_visible()

    await parent.get_by_label("Email").fill(PARENT[0])
    await parent.get_by_label("Password").fill(PARENT[1])
    await parent.get_by_role("button", name="Sign in").click()
    await expect(parent.get_by_role("alert")).not_to_be_empty()
    await expect(parent.get_by_role("button", name="Sign out")).to_have_count(0)


async def test_a_leader_downloads_a_leavers_record_then_erases_it(
    embedded: str, phone: Page
) -> None:
    leader = phone
    await sign_in(leader, embedded, "leader@demo.school", "demo-leader-pass")
    await open_page(leader, "Pupils who have left")
    await leader.get_by_label("Pupil", exact=True).select_option(label="Isla Wood (Willow)")
    await leader.get_by_role("button", name="Mark as left").click()
    leaver = leader.get_by_role("article", name="Isla Wood")
    await expect(leaver).to_be_visible()
    await assert_accessible(leader)

    files = await download(leader, "Download their record")
    assert [p["first_name"] for p in json.loads(files["data.json"])["pupil"]] == ["Isla"]

    await leaver.get_by_label("I have kept what the law asks").check()
    await leaver.get_by_role("button", name="Erase Isla's record").click()
    await expect(leader.get_by_text("1 pupil's record has been erased.")).to_be_visible()
    await expect(leader.get_by_role("article", name="Isla Wood")).to_have_count(0)
    await open_page(leader, "Who looked at records")
    await expect(leader.get_by_role("cell", name="exported record")).to_be_visible()
    await assert_accessible(leader)


async def test_a_leader_chooses_how_long_leavers_and_points_are_kept(
    embedded: str, phone: Page
) -> None:
    leader = phone
    await sign_in(leader, embedded, "leader@demo.school", "demo-leader-pass")
    await open_page(leader, "Keeping data")
    await expect(
        leader.get_by_label("Until the end of the next term (recommended)")
    ).to_be_checked()
    await assert_accessible(leader)
    await leader.get_by_label("A number of days I choose").check()
    await leader.get_by_label("Days after leaving, if you chose a number").fill("14")
    await expect(leader.get_by_label("Months of points to keep")).to_have_value("12")
    await leader.get_by_label("Months of points to keep").fill("18")
    await leader.get_by_role("button", name="Save").click()
    await expect(leader.get_by_role("status")).to_have_text(
        "Saved. Leavers' records and old points are erased by these rules every hour."
    )
    await leader.reload()
    await expect(leader.get_by_label("Months of points to keep")).to_have_value("18")
