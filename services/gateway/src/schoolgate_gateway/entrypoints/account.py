"""Your own account: ``/api/me/account``.

Anyone signed in with a password changes it here, giving the old one (counted by the
sign-in's own limits, so a phone left signed in is no place to guess it). A parent also
changes their name and email: a member of staff's are the school's, kept in the roster. The
language is a choice from the languages Schoolgate speaks. Signing out everywhere is
``POST /api/session/everywhere``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from schoolgate_kit.problems import (
    Conflict,
    Forbidden,
    Problem,
    Unprocessable,
    problem_responses,
)

from schoolgate_gateway.accounts import Account, EmailTaken, Kind
from schoolgate_gateway.bootstrap import SESSION_COOKIE
from schoolgate_gateway.deps import Address, GatewayDep, SignedIn
from schoolgate_gateway.security import DEVICE_COOKIE

router = APIRouter(prefix="/api/me/account", tags=["account"])

LANGUAGES = {"en": "English"}
"""The languages the interface is written in: the languages work adds to it."""
Language = Literal["en"]
NewPassword = Annotated[str, Field(min_length=10, max_length=1024)]
Email = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]


class PasswordWrong(Problem):
    status, slug, title = 403, "password-wrong", "That password is not right"


class EmailInUse(Conflict):
    slug = "email-in-use"
    title = "Another account uses that email"


class NotYours(Forbidden):
    slug = "ask-the-school"
    title = "The school keeps this for staff accounts"


async def confirm_password(
    account: Account, password: str, request: Request, gateway: GatewayDep, address: str
) -> None:
    """The password asked again, counted as a sign-in is: the same limits, the same answer."""
    if account.email is None:
        raise PasswordWrong("Please type your password again.")
    device = await gateway.devices.device(request.cookies.get(DEVICE_COOKIE), account.email)
    await gateway.sign_in.before(account.email, address, device)
    if await gateway.accounts.sign_in(account.email, password) is None:
        await gateway.sign_in.failed(account.email, address, device)
        raise PasswordWrong("Please type your password again.")
    await gateway.sign_in.succeeded(account.email, address, device)


class AccountView(BaseModel):
    display_name: str
    email: str | None
    language: str
    languages: dict[str, str] = Field(description="Code and name of each language offered.")
    may_change_name_and_email: bool


def _view(account: Account) -> AccountView:
    return AccountView(
        display_name=account.display_name,
        email=account.email,
        language=account.language,
        languages=LANGUAGES,
        may_change_name_and_email=account.kind is Kind.parent,
    )


class Details(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: Annotated[str, Field(min_length=1, max_length=120)] | None = None
    language: Language | None = None


class NewEmail(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Email
    password: str = Field(min_length=1, max_length=1024)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=1, max_length=1024, description="The password now.")
    new_password: NewPassword


@router.get("", response_model=AccountView, responses=problem_responses(401))
async def my_account(account: SignedIn) -> AccountView:
    """Your name, email and language."""
    return _view(account)


@router.put("", response_model=AccountView, responses=problem_responses(401, 403))
async def change_details(body: Details, account: SignedIn, gateway: GatewayDep) -> AccountView:
    """Change your name (parents) or language."""
    if body.display_name is not None and account.kind is not Kind.parent:
        raise NotYours("Your name is kept by your school: please ask a school leader.")
    name = None if body.display_name is None else body.display_name.strip()
    if name == "":
        raise Unprocessable("Please type your name.")
    changed = await gateway.accounts.change_details(
        account, display_name=name, language=body.language
    )
    return _view(changed)


@router.put("/email", response_model=AccountView, responses=problem_responses(401, 403, 409, 429))
async def change_email(
    body: NewEmail, request: Request, account: SignedIn, gateway: GatewayDep, address: Address
) -> AccountView:
    """A parent signs in with a new email from now on (their password asked again)."""
    if account.kind is not Kind.parent:
        raise NotYours("Your email is kept by your school: please ask a school leader.")
    await confirm_password(account, body.password, request, gateway, address)
    try:
        changed = await gateway.accounts.change_email(account, body.email.strip())
    except EmailTaken:
        raise EmailInUse("Another account uses that email.") from None
    return _view(changed)


@router.put("/password", status_code=204, responses=problem_responses(401, 403, 429))
async def change_password(
    body: PasswordChange,
    request: Request,
    account: SignedIn,
    gateway: GatewayDep,
    address: Address,
) -> None:
    """A new password: every other phone or computer signed in to the account is signed out."""
    await confirm_password(account, body.password, request, gateway, address)
    await gateway.accounts.set_password(
        account, body.new_password, but=request.cookies.get(SESSION_COOKIE)
    )
