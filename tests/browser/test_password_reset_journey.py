"""A parent who forgot their password asks for a link, reads it in the email that arrived at
a real SMTP server, chooses a new password and signs in with it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect
from schoolgate_kit.testing.smtp import LoopbackSmtp

from ..conftest import start_embedded  # type: ignore[import-not-found]
from .steps import assert_accessible, new_phone, sign_in  # type: ignore[import-not-found]

pytestmark = pytest.mark.browser
PARENT = "sam@family.example"


@pytest.fixture
def school_with_mail(tmp_path: Path) -> Iterator[tuple[str, LoopbackSmtp]]:
    with LoopbackSmtp.running() as mail:
        # a fresh install starts faster than the demo, and a parent account is all it takes
        base, proc = start_embedded(tmp_path, demo=False, env={"SCHOOLGATE_SMTP_URL": mail.url})
        try:
            joined = httpx.post(
                f"{base}/api/join/account",
                json={"email": PARENT, "password": "the forgotten one", "display_name": "Sam"},
            )
            assert joined.status_code == 202, joined.text
            yield base, mail
        finally:
            proc.stop()


async def test_a_parent_resets_a_forgotten_password(
    school_with_mail: tuple[str, LoopbackSmtp], browser: Browser
) -> None:
    base, mail = school_with_mail
    parent = await new_phone(browser)
    await parent.goto(base)
    await parent.get_by_role("link", name="Forgot your password?").click()
    await expect(parent.get_by_role("heading", level=1, name="Forgotten password")).to_be_visible()
    await assert_accessible(parent)
    await parent.get_by_label("Email").fill(PARENT)
    await parent.get_by_role("button", name="Send me a link").click()
    await expect(parent.locator(".done")).to_contain_text("If an account uses this email")

    email = await mail.wait_for(PARENT)
    token = re.findall(r"#reset=([A-Za-z0-9_-]+)", email.body("plain"))[-1]
    await parent.goto(f"{base}/#reset={token}")
    await expect(
        parent.get_by_role("heading", level=1, name="Choose a new password")
    ).to_be_visible()
    await assert_accessible(parent)
    await parent.get_by_label("New password", exact=True).fill("a brand new pass phrase")
    await parent.get_by_label("Type the password again").fill("a brand new pass phrase")
    await parent.get_by_role("button", name="Save my new password").click()
    await expect(parent.locator("#status")).to_contain_text("Sign in with it now")
    await expect(parent.get_by_role("button", name="Sign in")).to_be_visible()

    await sign_in(parent, base, PARENT, "a brand new pass phrase")
    # the link has done its work
    await parent.goto(f"{base}/#reset={token}")
    await expect(parent.get_by_text("This link has been used")).to_be_visible()
