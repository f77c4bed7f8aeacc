"""A forgotten password: a link by email, for parents and staff.

Asking answers the same whether or not an account has the email, so the page tells nobody
who has an account here; asks are limited per email (nobody fills a stranger's inbox) and
per client. The email goes after the answer, in the background, with a couple of retries.
Its link works once, for ``password_reset_minutes``, and only the newest one asked for.
Choosing the new password signs the account out everywhere and signs nobody in: whoever
reset it signs in next, with their second factor if they have one.

Where no mail server is configured, ``GET /api/email`` says so and the page tells people to
ask the school office (a leader makes a set-up link); the invite letters page asks it too.
"""

from __future__ import annotations

import string
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks
from pydantic import BaseModel, ConfigDict, Field
from schoolgate_kit.mail import Mailer, words_for
from schoolgate_kit.problems import Problem, Unauthenticated, problem_responses

from schoolgate_gateway.account_mail import send_account_email
from schoolgate_gateway.accounts import Account, Kind
from schoolgate_gateway.bootstrap import Gateway
from schoolgate_gateway.deps import Address, GatewayDep

router = APIRouter(prefix="/api/password-reset", tags=["account"])
email_router = APIRouter(prefix="/api/email", tags=["account"])

Email = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
Token = Annotated[str, Field(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
NewPassword = Annotated[str, Field(min_length=10, max_length=1024)]

WORDS = {
    "en": {
        "title": "Choose a new password",
        "asked": "Someone asked to reset the password of the Schoolgate account that uses"
        " this email address.",
        "works": "The button works once, for $minutes minutes. Choosing a new password signs"
        " your account out on every phone and computer.",
        "ignore": "If you did not ask, ignore this email: your password stays as it is.",
        "button": "Choose a new password",
    }
}


class EmailStatus(BaseModel):
    email: Literal["configured", "not configured"]


class Forgotten(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Email


class Asked(BaseModel):
    """The one answer to a reset asked for, whether or not the email has an account."""

    status: Literal["sent-if-known"] = "sent-if-known"
    detail: str = (
        "If an account uses this email, we have sent it a link to choose a new password."
        " Check your spam folder if it has not arrived in a few minutes."
    )


class Link(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: Token


class NewPasswordChosen(Link):
    password: NewPassword


class CannotEmail(Problem):
    status, slug, title = 503, "no-email", "This Schoolgate cannot send email"


LINK_USED = "This link has been used, has expired or was replaced by a newer one. Ask again."


@email_router.get("", response_model=EmailStatus)
async def email_status(gateway: GatewayDep) -> EmailStatus:
    """Whether this Schoolgate can send email (reset links and emailed letters need it)."""
    return EmailStatus(email="not configured" if gateway.mailer is None else "configured")


@router.post("", status_code=202, response_model=Asked, responses=problem_responses(429, 503))
async def ask_for_a_reset(
    body: Forgotten, background: BackgroundTasks, gateway: GatewayDep, address: Address
) -> Asked:
    """Email a link to choose a new password, if an account uses this email."""
    mailer = gateway.mailer
    if mailer is None:
        raise CannotEmail(
            "This school's Schoolgate cannot send email. Please ask the school office for"
            " a link to choose a new password."
        )
    who = body.email.strip().lower()
    await gateway.limits.attempt(gateway.resets_per_address, address)
    await gateway.limits.attempt(gateway.resets_per_email, who)
    account = await gateway.accounts.by_email(who)
    if account is not None and account.kind is not Kind.pupil and account.email is not None:
        minutes = gateway.settings.password_reset_minutes
        token = await gateway.accounts.new_reset_link(
            account, gateway.clock(), timedelta(minutes=minutes)
        )
        background.add_task(_send_reset, gateway, mailer, account, token)
    return Asked()


@router.post("/check", status_code=204, responses=problem_responses(401, 429))
async def check_link(body: Link, gateway: GatewayDep, address: Address) -> None:
    """Whether a reset link still works (the page says so before a password is typed)."""
    await gateway.limits.attempt(gateway.codes_per_address, address)
    if not await gateway.accounts.reset_link_works(body.token, gateway.clock()):
        raise Unauthenticated(LINK_USED)


@router.post("/new-password", status_code=204, responses=problem_responses(401, 429))
async def choose_a_new_password(
    body: NewPasswordChosen, gateway: GatewayDep, address: Address
) -> None:
    """Choose a new password with a reset link; every session of the account ends."""
    await gateway.limits.attempt(gateway.codes_per_address, address)
    account = await gateway.accounts.use_reset_link(body.token, body.password, gateway.clock())
    if account is None:
        raise Unauthenticated(LINK_USED)


async def _send_reset(gateway: Gateway, mailer: Mailer, account: Account, token: str) -> None:
    words = words_for(account.language, WORDS)
    minutes = str(gateway.settings.password_reset_minutes)
    await send_account_email(
        gateway,
        mailer,
        account,
        what="password reset",
        title=words["title"],
        lines=[
            words["asked"],
            string.Template(words["works"]).safe_substitute(minutes=minutes),
            words["ignore"],
        ],
        action=(words["button"], f"{gateway.settings.public_base_url}/#reset={token}"),
    )
