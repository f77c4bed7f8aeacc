"""Account emails the gateway sends itself: a password reset link, a sign-in from a new device.

They go to the account's own address, out of band: whoever has taken over an account sees
its in-app notices too, and could mark them read, but not the owner's inbox. They cannot be
turned off. Each is sent after the answer, in the background, and tried a few times; a
failure is logged by account id, never by address.
"""

from __future__ import annotations

import asyncio
import string
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import structlog
from schoolgate_kit.mail import (
    Mailer,
    PermanentFailure,
    TemporaryFailure,
    compose,
    render_notification,
    words_for,
)
from ua_parser import parse

from schoolgate_gateway.accounts import Account
from schoolgate_gateway.bootstrap import Gateway

log = structlog.get_logger()

RETRIES = (1.0, 5.0)
"""Seconds before each further try of an email the mail server could not take."""
LONGEST_USER_AGENT = 512
"""A longer User-Agent is cut before parsing: it is the sender's to choose, and parsing is
regular expressions."""

NEW_DEVICE = {
    "en": {
        "title": "A new sign-in to your Schoolgate account",
        "used": "Your password was used to sign in on a phone or computer that has not"
        " signed in to your account before: $device, on $when.",
        "you": "If this was you, there is nothing to do.",
        "not_you": "If it was not you, choose a new password now: that signs your account"
        " out on every phone and computer. Then tell the school office.",
        "button": "Choose a new password",
        "unknown": "a web browser",
        "on": "$browser on $system",
        "when": "%A %-d %B at %H:%M",
    }
}


async def send_account_email(
    gateway: Gateway,
    mailer: Mailer,
    account: Account,
    *,
    what: str,
    title: str,
    lines: Sequence[str],
    action: tuple[str, str],
) -> None:
    """An account notice to the account's email, tried ``1 + len(RETRIES)`` times."""
    assert account.email is not None
    rendered = render_notification(
        title=title,
        lines=lines,
        language=account.language,
        name=account.display_name,
        action=action,
    )
    message = compose(
        sender=mailer.sender,
        to=account.email,
        to_name=account.display_name,
        subject=rendered.subject,
        text=rendered.text,
        html_body=rendered.html,
        now=gateway.clock(),
        language=account.language,
    )
    for attempt, wait in enumerate((*RETRIES, None)):
        try:
            await mailer.send(message)
            return
        except PermanentFailure as bounced:
            log.warning(f"{what} email refused", account=account.account_id, why=str(bounced))
            return
        except TemporaryFailure as failed:
            if wait is None:
                log.error(
                    f"{what} email not sent",
                    account=account.account_id,
                    tries=attempt + 1,
                    why=str(failed),
                )
                return
            await asyncio.sleep(wait)


@lru_cache(maxsize=256)
def _device(user_agent: str) -> tuple[str | None, str | None]:
    found = parse(user_agent[:LONGEST_USER_AGENT])
    browser = found.user_agent.family if found.user_agent else None
    system = found.os.family if found.os else None
    return (None if browser == "Other" else browser), (None if system == "Other" else system)


def describe_device(user_agent: str | None, words: Mapping[str, str]) -> str:
    """ "Chrome Mobile on Android", from a User-Agent; "a web browser" when it says nothing
    we know. Only the browser and the system: never the address, which would say where the
    family is."""
    browser, system = _device(user_agent or "")
    if browser and system:
        return string.Template(words["on"]).safe_substitute(browser=browser, system=system)
    return browser or system or words["unknown"]


async def tell_of_new_device(
    gateway: Gateway, mailer: Mailer, account: Account, user_agent: str | None, at: datetime
) -> None:
    """Tell an account's owner that their password signed in on a browser it had not."""
    words = words_for(account.language, NEW_DEVICE)
    when = at.astimezone(ZoneInfo(gateway.settings.school_timezone)).strftime(words["when"])
    used = string.Template(words["used"]).safe_substitute(
        device=describe_device(user_agent, words), when=when
    )
    await send_account_email(
        gateway,
        mailer,
        account,
        what="new device",
        title=words["title"],
        lines=[used, words["you"], words["not_you"]],
        action=(words["button"], f"{gateway.settings.public_base_url}/#forgot"),
    )
