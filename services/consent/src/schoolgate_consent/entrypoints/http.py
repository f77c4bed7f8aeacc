"""The consent service's HTTP API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field
from schoolgate_contracts.consent import RequestCause
from schoolgate_kit.app import Kit, create_service_app
from schoolgate_kit.identity import CurrentIdentity, Role
from schoolgate_kit.mail import PermanentFailure, TemporaryFailure
from schoolgate_kit.problems import Conflict, Forbidden, NotFound, Problem, problem_responses

from schoolgate_consent import domain, handlers
from schoolgate_consent.adapters.qr import qr_svg
from schoolgate_consent.bootstrap import Consent
from schoolgate_consent.deps import (
    ID_PATTERN,
    AcceptanceReader,
    Acting,
    Address,
    ConductReader,
    ConsentDep,
    CorrelationId,
    GuardianReader,
    InviteManager,
    Inviter,
    InviteScope,
    MediaSetter,
    ParentBeforeConduct,
    ParentIdentity,
    ParentLeader,
    ParentOffice,
    PathId,
    PolicySetter,
    PupilLeader,
    PupilStaff,
    SchoolLeader,
    SchoolOverseer,
    SchoolParent,
    SchoolStaff,
    letters_scope,
    shown_media,
)
from schoolgate_consent.entrypoints.letter import join_url, letter_email, letter_html

Reason = Annotated[str, Field(min_length=1, max_length=2000)]
NO_STORE = {"cache-control": "no-store", "referrer-policy": "no-referrer"}

router = APIRouter(tags=["consent"])
school = APIRouter(prefix="/schools/{school_id}", tags=["consent"])


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PupilHasLeft(Conflict):
    slug = "pupil-has-left"
    title = "The pupil has left the school"


def _actor(subject: str, school_id: str, correlation: str) -> handlers.Actor:
    return handlers.Actor(subject=subject, school_id=school_id, correlation_id=correlation)


# -- invites ---------------------------------------------------------------------------------


class InviteRequest(Body):
    expires_in_days: int | None = Field(
        default=None, ge=1, le=90, description="Default: the school's lifetime, else 14 days."
    )


class IssuedInvite(BaseModel):
    invite_id: str
    pupil_id: str
    code: str = Field(description="Grouped for reading: ABCDE-FGHJK. Single use.")
    expires_at: datetime
    join_url: str
    letter_url: str
    qr_svg: str


@school.post("/pupils/{pupil_id}/invites", status_code=201, response_model=IssuedInvite)
async def issue_invite(
    school_id: PathId,
    pupil_id: PathId,
    scope: Inviter,
    consent: ConsentDep,
    correlation: CorrelationId,
    response: Response,
    body: InviteRequest | None = None,
) -> IssuedInvite:
    """Issue a single-use invite for a parent or carer of a pupil to join."""
    if scope.pupil["left"]:
        raise PupilHasLeft(f"pupil {pupil_id} has left: no new parents can join")
    issued = await handlers.issue_invite(
        pupil_id,
        body.expires_in_days if body else None,
        actor=_actor(scope.identity.subject, school_id, correlation),
        consent=consent,
    )
    url = join_url(consent.settings.public_base_url, issued.code)
    response.headers.update(NO_STORE)
    return IssuedInvite(
        invite_id=issued.invite_id,
        pupil_id=pupil_id,
        code=domain.show_code(issued.code),
        expires_at=issued.expires_at,
        join_url=url,
        letter_url=f"/schools/{school_id}/invites/{issued.invite_id}/letter",
        qr_svg=qr_svg(url),
    )


MAX_LETTERS = 2000
"""A primary school's roll, with room: a batch larger than this is refused, not cut short."""


class LettersRequest(Body):
    class_id: Annotated[str, Field(pattern=ID_PATTERN)] | None = Field(
        default=None, description="Default: every pupil of the school (whole-school staff)."
    )
    expires_in_days: int | None = Field(
        default=None, ge=1, le=90, description="Default: the school's lifetime, else 14 days."
    )


class Letter(IssuedInvite):
    child: str
    class_id: str


class Letters(BaseModel):
    letters: list[Letter]


class NoPupils(NotFound):
    slug = "no-pupils"
    title = "No pupils on roll there"


class TooManyLetters(Problem):
    status, slug, title = 422, "too-many-letters", "Too many letters at once"


@school.post(
    "/invite-letters",
    status_code=201,
    response_model=Letters,
    responses=problem_responses(401, 403, 404),
)
async def issue_letters(
    school_id: PathId,
    body: LettersRequest,
    identity: Acting,
    consent: ConsentDep,
    correlation: CorrelationId,
    response: Response,
) -> Letters:
    """Issue an invite for every pupil on roll of a class (or of the school) and record each
    letter as printed: one document to print, a page per child."""
    letters_scope(identity, school_id, body.class_id)
    pupils = await handlers.pupils_on_roll(school_id, body.class_id, consent=consent)
    if not pupils:
        # an empty class, or another school's: either way there is nobody to invite here
        raise NoPupils("there are no pupils on roll in that class at this school")
    if len(pupils) > MAX_LETTERS:
        raise TooManyLetters(f"at most {MAX_LETTERS} letters at once: choose a class")
    actor = _actor(identity.subject, school_id, correlation)
    letters: list[Letter] = []
    for pupil in pupils:
        issued = await handlers.issue_invite(
            pupil["pupil_id"], body.expires_in_days, actor=actor, consent=consent
        )
        await handlers.print_letter(issued.invite_id, issued.pupil_id, actor=actor, consent=consent)
        url = join_url(consent.settings.public_base_url, issued.code)
        letters.append(
            Letter(
                invite_id=issued.invite_id,
                pupil_id=issued.pupil_id,
                code=domain.show_code(issued.code),
                expires_at=issued.expires_at,
                join_url=url,
                letter_url=f"/schools/{school_id}/invites/{issued.invite_id}/letter",
                qr_svg=qr_svg(url),
                child=f"{pupil['first_name']} {pupil['surname']}",
                class_id=pupil["class_id"],
            )
        )
    response.headers.update(NO_STORE)
    return Letters(letters=letters)


class InviteView(BaseModel):
    invite_id: str
    pupil_id: str
    issued_by: str
    issued_at: datetime
    expires_at: datetime
    status: Literal["open", "expired", "revoked", "used"]
    used_by: str | None


@school.get("/pupils/{pupil_id}/invites", response_model=list[InviteView])
async def pupil_invites(pupil_id: PathId, scope: Inviter, consent: ConsentDep) -> list[Any]:
    """A pupil's invites and what became of them (never their codes)."""
    return await handlers.invites_of_pupil(pupil_id, consent=consent)


@school.get("/invites/{invite_id}/letter", response_class=HTMLResponse)
async def invite_letter(
    school_id: PathId, scope: InviteManager, consent: ConsentDep, correlation: CorrelationId
) -> HTMLResponse:
    """The printable letter for an open invite: its code and a QR code (recorded)."""
    code, child = await _hand_out(school_id, scope, consent, correlation)
    page = letter_html(
        code=code,
        child=child,
        expires_at=scope.invite.expires_at,
        public_base_url=consent.settings.public_base_url,
        timezone=consent.settings.school_timezone,
    )
    return HTMLResponse(page, headers=NO_STORE)


async def _hand_out(
    school_id: str, scope: InviteScope, consent: Consent, correlation: str
) -> tuple[str, str]:
    """An open invite's code and child, recorded as handed out (printed or emailed) by the
    one asking before either leaves: a code nobody can account for is never handed out."""
    invite = scope.invite
    if invite.code is None:
        raise domain.InviteNotOpen("that invite is no longer open: issue a new one")
    await handlers.print_letter(
        invite.invite_id,
        invite.pupil_id,
        actor=_actor(scope.identity.subject, school_id, correlation),
        consent=consent,
    )
    child = await handlers.pupil_name(invite.pupil_id, consent=consent) or "your child"
    return invite.code, child


class LetterByEmail(Body):
    email: Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]


class CannotEmail(Problem):
    status, slug, title = 503, "no-email", "This Schoolgate cannot send email"


class AddressRefused(Problem):
    status, slug, title = 422, "address-refused", "That email address takes no mail"


@school.post(
    "/invites/{invite_id}/email",
    status_code=204,
    responses=problem_responses(401, 403, 404, 409, 503),
)
async def email_letter(
    school_id: PathId,
    body: LetterByEmail,
    scope: InviteManager,
    consent: ConsentDep,
    correlation: CorrelationId,
) -> None:
    """Email the letter of an open invite to a parent or carer (recorded as a print is)."""
    mailer = consent.mailer
    if mailer is None:
        raise CannotEmail("This school's Schoolgate cannot send email: please print the letter.")
    code, child = await _hand_out(school_id, scope, consent, correlation)
    message = letter_email(
        code=code,
        child=child,
        expires_at=scope.invite.expires_at,
        public_base_url=consent.settings.public_base_url,
        timezone=consent.settings.school_timezone,
        sender=mailer.sender,
        to=body.email.strip(),
        now=consent.clock(),
    )
    try:
        await mailer.send(message)
    except PermanentFailure:
        raise AddressRefused(
            "The family's mail server refused that address: check it, or print the letter."
        ) from None
    except TemporaryFailure:
        raise CannotEmail(
            "The mail server did not take the email just now: try again in a minute, or"
            " print the letter."
        ) from None


class Done(BaseModel):
    ok: bool = True


@school.post("/invites/{invite_id}/revoke", response_model=Done)
async def revoke_invite(
    school_id: PathId, scope: InviteManager, consent: ConsentDep, correlation: CorrelationId
) -> Done:
    """Revoke an invite so its code no longer works."""
    await handlers.revoke_invite(
        scope.invite.invite_id,
        scope.invite.pupil_id,
        actor=_actor(scope.identity.subject, school_id, correlation),
        consent=consent,
    )
    return Done()


class RedeemRequest(Body):
    code: str = Field(min_length=1, max_length=64)


class CodeOfConduct(BaseModel):
    school_id: str
    version: int
    text: str
    published_at: datetime


class Redeemed(BaseModel):
    status: Literal["linked", "pending"]
    """pending: a leader decides (the pupil already has two guardians, or the account's
    email belongs to a member of staff)."""
    pupil_id: str
    school_id: str
    code_of_conduct: CodeOfConduct | None
    code_of_conduct_accepted: bool


@router.post("/invites/check", status_code=204, responses=problem_responses(401, 403, 429))
async def check_invite(
    body: RedeemRequest, identity: ParentBeforeConduct, consent: ConsentDep, address: Address
) -> None:
    """Whether an invite code would work for this parent now (nothing is redeemed)."""
    await handlers.check_invite(
        body.code,
        parent_id=identity.subject,
        staff_account=identity.also_staff,
        address=address,
        consent=consent,
    )


@router.post("/invites/redeem", response_model=Redeemed)
async def redeem(
    body: RedeemRequest,
    identity: ParentBeforeConduct,
    consent: ConsentDep,
    correlation: CorrelationId,
    address: Address,
) -> Redeemed:
    """Join as a guardian of the pupil an invite code is for."""
    redemption = await handlers.redeem(
        body.code,
        parent_id=identity.subject,
        staff_account=identity.also_staff,
        address=address,
        correlation_id=correlation,
        consent=consent,
    )
    conduct = await handlers.code_of_conduct(redemption.school_id, consent=consent)
    acceptance = await handlers.conduct_acceptance(
        redemption.school_id, identity.subject, consent=consent
    )
    return Redeemed(
        status="linked" if redemption.outcome is domain.Outcome.linked else "pending",
        pupil_id=redemption.pupil_id,
        school_id=redemption.school_id,
        code_of_conduct=None if conduct is None else CodeOfConduct.model_validate(conduct),
        code_of_conduct_accepted=bool(acceptance["accepted"]),
    )


# -- guardianship ------------------------------------------------------------------------------


class MediaSummary(BaseModel):
    granted: bool
    may_appear: bool


class Child(BaseModel):
    pupil_id: str
    school_id: str
    status: Literal["linked", "pending", "rejected"]
    since: datetime
    media: MediaSummary | None = None


@router.get("/parents/me/children", response_model=list[Child])
async def my_children(identity: ParentBeforeConduct, consent: ConsentDep) -> list[Any]:
    """The children I am linked to, or waiting to be."""
    return await handlers.children_of(identity.subject, consent=consent)


class Link(BaseModel):
    pupil_id: str
    parent_id: str
    school_id: str
    status: Literal["linked", "pending", "rejected"]
    since: datetime
    request_id: str | None
    decided_by: str | None
    reason: str | None
    because: RequestCause | None = None
    """Why a request waits for a leader: ``staff_account`` when the account's email belongs
    to a member of staff, ``guardian_limit`` when the pupil already has two guardians."""


@school.get("/guardian-requests", response_model=list[Link])
async def guardian_requests(
    school_id: PathId, identity: SchoolLeader, consent: ConsentDep
) -> list[Any]:
    """Requests for a third guardian waiting for a leader's decision."""
    return await handlers.pending_requests(school_id, consent=consent)


class Decision(Body):
    decision: Literal["approve", "reject"]
    reason: Reason


@school.post("/pupils/{pupil_id}/guardian-requests/{request_id}/decision", response_model=Done)
async def decide_request(
    school_id: PathId,
    pupil_id: PathId,
    request_id: PathId,
    body: Decision,
    scope: PupilLeader,
    consent: ConsentDep,
    correlation: CorrelationId,
) -> Done:
    """Approve or reject a request for a further guardian, giving the reason."""
    await handlers.decide_guardian_request(
        domain.DecideRequest(
            request_id=request_id,
            pupil_id=pupil_id,
            approve=body.decision == "approve",
            decided_by=scope.identity.subject,
            reason=body.reason,
        ),
        actor=_actor(scope.identity.subject, school_id, correlation),
        consent=consent,
    )
    return Done()


# -- care status and media consent -------------------------------------------------------------


class MediaState(BaseModel):
    pupil_id: str
    school_id: str
    granted: bool | None = Field(description="Null unless you are office, leader or admin.")
    in_care: bool | None = Field(description="Null unless you are office, leader or admin.")
    exception: bool | None = Field(description="Null unless you are office, leader or admin.")
    may_appear: bool
    changed_by: str | None
    changed_at: datetime | None


class PupilConsent(BaseModel):
    pupil_id: str
    school_id: str
    guardians: list[Link]
    requests: list[Link]
    media: MediaState


@school.get("/pupils/{pupil_id}/consent", response_model=PupilConsent)
async def pupil_consent(
    school_id: PathId, pupil_id: PathId, scope: GuardianReader, consent: ConsentDep
) -> PupilConsent:
    """A pupil's guardians, guardian requests and media consent."""
    links = await handlers.links_of_pupil(pupil_id, consent=consent)
    return PupilConsent(
        pupil_id=pupil_id,
        school_id=school_id,
        guardians=[Link.model_validate(x) for x in links if x["status"] == "linked"],
        requests=[Link.model_validate(x) for x in links if x["status"] != "linked"],
        media=MediaState.model_validate(
            shown_media(
                scope.identity, await handlers.media_of(pupil_id, school_id, consent=consent)
            )
        ),
    )


@school.get("/pupils/{pupil_id}/media", response_model=MediaState)
async def pupil_media(
    school_id: PathId, pupil_id: PathId, scope: PupilStaff, consent: ConsentDep
) -> Any:
    """May this pupil appear in photos, stories and portfolios?"""
    return shown_media(
        scope.identity, await handlers.media_of(pupil_id, school_id, consent=consent)
    )


@school.get("/media", response_model=list[MediaState])
async def school_media(school_id: PathId, identity: SchoolStaff, consent: ConsentDep) -> Any:
    """Media consent of every pupil with a recorded choice (no document: no consent)."""
    return [
        shown_media(identity, m) for m in await handlers.school_media(school_id, consent=consent)
    ]


class MediaChoice(Body):
    granted: bool


class MediaAnswer(BaseModel):
    pupil_id: str
    granted: bool
    may_appear: bool


@school.put("/pupils/{pupil_id}/media-consent", response_model=MediaAnswer)
async def set_media_consent(
    school_id: PathId,
    pupil_id: PathId,
    body: MediaChoice,
    scope: MediaSetter,
    consent: ConsentDep,
    correlation: CorrelationId,
) -> MediaAnswer:
    """Grant or withdraw media consent (a guardian, or the office recording a paper form)."""
    may = await handlers.set_media_consent(
        domain.SetMediaConsent(
            pupil_id=pupil_id,
            granted=body.granted,
            by=scope.identity.subject,
            as_guardian=scope.as_guardian,
        ),
        actor=_actor(scope.identity.subject, school_id, correlation),
        consent=consent,
    )
    return MediaAnswer(pupil_id=pupil_id, granted=body.granted, may_appear=may)


class CareStatus(Body):
    in_care: bool


@school.put("/pupils/{pupil_id}/care-status", response_model=Done)
async def record_care_status(
    school_id: PathId,
    pupil_id: PathId,
    body: CareStatus,
    scope: PupilLeader,
    consent: ConsentDep,
    correlation: CorrelationId,
) -> Done:
    """Record whether a pupil is in local-authority care."""
    await handlers.record_care_status(
        domain.RecordCareStatus(pupil_id, body.in_care, scope.identity.subject),
        actor=_actor(scope.identity.subject, school_id, correlation),
        consent=consent,
    )
    return Done()


class ExceptionRequest(Body):
    reason: Reason


@school.post("/pupils/{pupil_id}/media-exception", response_model=Done)
async def record_media_exception(
    school_id: PathId,
    pupil_id: PathId,
    body: ExceptionRequest,
    scope: PupilLeader,
    consent: ConsentDep,
    correlation: CorrelationId,
) -> Done:
    """Allow a pupil in care to have media consent, giving the reason."""
    await handlers.record_media_exception(
        domain.RecordMediaException(pupil_id, scope.identity.subject, body.reason),
        actor=_actor(scope.identity.subject, school_id, correlation),
        consent=consent,
    )
    return Done()


# -- code of conduct and invite policy -----------------------------------------------------


class ConductText(Body):
    text: str = Field(min_length=1, max_length=20_000)


class Version(BaseModel):
    version: int


@school.put("/code-of-conduct", response_model=Version)
async def publish_code_of_conduct(
    school_id: PathId,
    body: ConductText,
    identity: PolicySetter,
    consent: ConsentDep,
    correlation: CorrelationId,
) -> Version:
    """Publish a new version of the school's code of conduct for parents."""
    version = await handlers.publish_code_of_conduct(
        body.text, actor=_actor(identity.subject, school_id, correlation), consent=consent
    )
    return Version(version=version)


@school.get("/code-of-conduct", response_model=CodeOfConduct)
async def read_code_of_conduct(
    school_id: PathId, identity: ConductReader, consent: ConsentDep
) -> Any:
    """The school's current code of conduct."""
    conduct = await handlers.code_of_conduct(school_id, consent=consent)
    if conduct is None:
        raise domain.NoCodeOfConduct(f"school {school_id} has no code of conduct yet")
    return conduct


class Acceptance(Body):
    version: int = Field(ge=1)


class ConductAcceptance(BaseModel):
    school_id: str
    parent_id: str
    current_version: int | None
    accepted_version: int | None
    accepted: bool


@school.post("/code-of-conduct/acceptances", response_model=Version)
async def accept_code_of_conduct(
    school_id: PathId,
    body: Acceptance,
    identity: SchoolParent,
    consent: ConsentDep,
    correlation: CorrelationId,
) -> Version:
    """Accept the current version of the school's code of conduct."""
    await handlers.accept_code_of_conduct(
        body.version, actor=_actor(identity.subject, school_id, correlation), consent=consent
    )
    return Version(version=body.version)


@school.get("/parents/{parent_id}/code-of-conduct", response_model=ConductAcceptance)
async def parent_conduct(
    school_id: PathId, parent_id: PathId, identity: AcceptanceReader, consent: ConsentDep
) -> Any:
    """Whether a parent has accepted the school's current code of conduct."""
    return await handlers.conduct_acceptance(school_id, parent_id, consent=consent)


class InvitePolicy(Body):
    lifetime_days: int = Field(ge=1, le=90)


@school.put("/invite-policy", response_model=Done)
async def set_invite_policy(
    school_id: PathId,
    body: InvitePolicy,
    identity: PolicySetter,
    consent: ConsentDep,
    correlation: CorrelationId,
) -> Done:
    """Set how many days the school's parent invites stay valid."""
    await handlers.set_invite_lifetime(
        body.lifetime_days, actor=_actor(identity.subject, school_id, correlation), consent=consent
    )
    return Done()


# -- what leaders and families are told -------------------------------------------------------

PageSize = Annotated[int, Query(ge=1, le=200)]
Before = Annotated[int | None, Query(ge=1, description="next_before of the previous page")]


class Activity(BaseModel):
    seq: int
    at: datetime
    kind: Literal[
        "issued",
        "printed",
        "revoked",
        "redeemed-linked",
        "redeemed-pending",
        "request-approved",
        "request-rejected",
        "linked-after-approval",
        "account-closed",
    ]
    invite_id: str | None
    """None for an account closed: that ended a link, not an invite."""
    pupil_id: str
    by: str
    """Who did it: the member of staff, or the parent who redeemed."""
    parent_id: str | None
    because: RequestCause | None


class ActivityPage(BaseModel):
    items: list[Activity]
    next_before: int | None


@school.get("/invite-activity", response_model=ActivityPage)
async def invite_activity(
    school_id: PathId,
    identity: SchoolOverseer,
    consent: ConsentDep,
    limit: PageSize = 50,
    before: Before = None,
) -> ActivityPage:
    """Who issued, printed, revoked and redeemed the school's invites, newest first."""
    page = await handlers.invite_activity(school_id, before=before, limit=limit, consent=consent)
    return ActivityPage.model_validate(page, from_attributes=True)


class Notice(BaseModel):
    notice_id: str
    seq: int
    at: datetime
    kind: Literal["guardian-linked"]
    school_id: str
    pupil_id: str
    parent_id: str
    """The account that became a guardian."""
    approved_by: str | None


class NoticePage(BaseModel):
    items: list[Notice]
    next_before: int | None


@school.get("/notices", response_model=NoticePage)
async def school_notices(
    school_id: PathId,
    identity: SchoolOverseer,
    consent: ConsentDep,
    limit: PageSize = 50,
    before: Before = None,
) -> NoticePage:
    """Every new guardian of the school's pupils, newest first."""
    page = await handlers.notices_for(
        "school", school_id, before=before, limit=limit, consent=consent
    )
    return NoticePage.model_validate(page, from_attributes=True)


@router.get("/parents/me/notices", response_model=NoticePage)
async def my_notices(
    identity: ParentIdentity, consent: ConsentDep, limit: PageSize = 50, before: Before = None
) -> NoticePage:
    """Someone else became a guardian of one of my children, newest first."""
    page = await handlers.notices_for(
        "parent", identity.subject, before=before, limit=limit, consent=consent
    )
    return NoticePage.model_validate(page, from_attributes=True)


# -- suspension --------------------------------------------------------------------------------


class ClosingAccount(Body):
    pupil_ids: list[Annotated[str, Field(pattern=ID_PATTERN)]] = Field(default=[], max_length=50)
    """The children the parent is linked to at this school, as the gateway knows them."""


class Closed(BaseModel):
    left: list[str]
    """The pupils the parent is no longer a guardian of."""


@school.post(
    "/parents/{parent_id}/close", response_model=Closed, responses=problem_responses(401, 403)
)
async def close_parent_account(
    school_id: PathId,
    parent_id: PathId,
    body: ClosingAccount,
    identity: CurrentIdentity,
    consent: ConsentDep,
    correlation: CorrelationId,
) -> Closed:
    """A parent closes their own account: they stop being a guardian of each child here,
    and the school keeps a record that they did (their id only). Open to a suspended parent
    and one who has not accepted the code of conduct: leaving is always allowed."""
    if identity.role is not Role.parent or identity.subject != parent_id:
        raise Forbidden("only the parent themself may close their account")
    left = await handlers.close_parent_account(
        parent_id,
        body.pupil_ids,
        actor=_actor(identity.subject, school_id, correlation),
        consent=consent,
    )
    return Closed(left=left)


class SuspendRequest(Body):
    reason: Reason


class Suspension(BaseModel):
    parent_id: str
    suspended: bool
    suspended_by: str | None
    reason: str | None
    since: datetime | None


@school.post("/parents/{parent_id}/suspension", response_model=Done)
async def suspend_parent(
    school_id: PathId,
    parent_id: PathId,
    body: SuspendRequest,
    identity: ParentLeader,
    consent: ConsentDep,
    correlation: CorrelationId,
) -> Done:
    """Suspend a parent account, giving the reason."""
    await handlers.suspend_parent(
        parent_id,
        body.reason,
        actor=_actor(identity.subject, school_id, correlation),
        consent=consent,
    )
    return Done()


@school.delete("/parents/{parent_id}/suspension", response_model=Done)
async def lift_suspension(
    school_id: PathId,
    parent_id: PathId,
    identity: ParentLeader,
    consent: ConsentDep,
    correlation: CorrelationId,
) -> Done:
    """Lift a parent's suspension."""
    await handlers.lift_suspension(
        parent_id, actor=_actor(identity.subject, school_id, correlation), consent=consent
    )
    return Done()


@school.get("/parents/{parent_id}/suspension", response_model=Suspension)
async def read_suspension(parent_id: PathId, identity: ParentOffice, consent: ConsentDep) -> Any:
    """Whether a parent account is suspended, by whom and why."""
    return await handlers.parent(parent_id, consent=consent)


def create_app(consent: Consent) -> FastAPI:
    kit = Kit(
        name="consent",
        settings=consent.settings,
        clock=consent.clock,
        ready_checks={
            "event_store": consent.store.ping,
            "read_models": consent.readmodels.ping,
            "private_store": consent.private.ping,
        },
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if consent.mailer is not None:
                await consent.mailer.close()
            await consent.private.close()

    app = create_service_app(kit, routers=[router, school], lifespan=lifespan)
    app.state.consent = consent
    return app
