"""The messaging service's HTTP API."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Path, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic_core import to_json
from schoolgate_contracts.messaging import (
    AbsenceReason,
    MessageAttachment,
    OfficeMatter,
    OfficeWords,
    ReportAction,
)
from schoolgate_kit.app import Kit, create_service_app
from schoolgate_kit.guard import allow_body
from schoolgate_kit.identity import Role
from schoolgate_kit.private import open_private_store
from schoolgate_kit.problems import Forbidden, Problem, Unprocessable, problem_responses
from schoolgate_kit.readmodels import OneOf

from schoolgate_messaging import handlers, office_matters
from schoolgate_messaging.bootstrap import Messaging
from schoolgate_messaging.deps import Leader, MessagingDep, Messenger, Office, Parent, PathId
from schoolgate_messaging.names_in_text import full_names_in
from schoolgate_messaging.projections import ABSENCES, CONVERSATIONS, MESSAGES, PUPILS, REPORTS

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
MEDIA_ID = r"^[0-9a-f]{32}$"
MEDIA_HEADERS = {"cache-control": "private, no-store", "x-content-type-options": "nosniff"}
After = Annotated[
    int | None,
    Query(ge=0, description="A position from a live update: answer only once it is counted."),
]

router = APIRouter(
    prefix="/schools/{school_id}",
    tags=["messaging"],
    responses=problem_responses(401, 403, 404, 409),
)
SENDS = problem_responses(429)
"""Sending is limited per sender (and per school when switched off: 403)."""


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AttachmentIn(Body):
    media_id: Annotated[str, Field(pattern=MEDIA_ID, description="From POST /media.")]
    kind: Literal["image", "document"]
    alt_text: str = Field(default="", max_length=500)
    tagged_pupil_ids: list[Id] = Field(default_factory=list, max_length=60)
    no_child_recognisable: bool = False

    def contract(self) -> MessageAttachment:
        return MessageAttachment(
            media_id=self.media_id,
            kind=self.kind,
            alt_text=self.alt_text,
            tagged_pupil_ids=tuple(dict.fromkeys(self.tagged_pupil_ids)),
            no_child_recognisable=self.no_child_recognisable,
        )


Attachments = Annotated[list[AttachmentIn], Field(default_factory=list, max_length=10)]
Text = Annotated[str, Field(default="", max_length=5_000)]
SendAt = Annotated[
    AwareDatetime | None,
    Field(
        default=None,
        description="Staff only: when families see it (e.g. the next start of school hours).",
    ),
]


def _json(body: Any) -> Response:
    """A read's answer written once, by pydantic's encoder: FastAPI's own walk over every
    value first cost more than the query behind a page of conversations."""
    return Response(to_json(body), media_type="application/json")


def _attachments(body: list[AttachmentIn]) -> tuple[MessageAttachment, ...]:
    return tuple(a.contract() for a in body)


class StartRequest(Body):
    pupil_id: Id
    to: Literal["class", "office"] = Field(
        default="class", description="A parent chooses the class's staff or the office."
    )
    parents: str | None = Field(
        default=None,
        pattern=r"^(all|[A-Za-z0-9_-]{1,64})$",
        description="Staff: one parent's id, or all of the child's parents (default).",
    )
    text: Text
    attachments: Attachments
    send_at: SendAt
    conversation_id: Id | None = Field(default=None, description="Your own id: a safe retry.")


class AnnounceRequest(Body):
    class_id: Id
    text: Text
    attachments: Attachments
    send_at: SendAt


class MessageRequest(Body):
    text: Text
    attachments: Attachments
    send_at: SendAt
    message_id: Id | None = Field(default=None, description="Your own id: a safe retry.")


class Sent(BaseModel):
    conversation_id: str
    message_id: str
    visible_from: datetime
    inbox: str


class ReadRequest(Body):
    through_message_id: Id


class ReportRequest(Body):
    reason: str = Field(min_length=1, max_length=1_000)


class ResolveRequest(Body):
    action: ReportAction
    note: str = Field(default="", max_length=1_000)


class PassRequest(Body):
    to: Literal["office", "class"]
    note: str = Field(default="", max_length=1_000)


class CheckRequest(Body):
    text: str = Field(max_length=10_000)
    pupil_id: Id | None = Field(default=None, description="The child it is about, if any.")
    to: Literal["class", "office", "story"] = "class"


class AbsenceRequest(Body):
    pupil_id: Id
    first_day: date
    last_day: date
    reason: AbsenceReason
    note: str = Field(default="", max_length=1_000)


class SwitchRequest(Body):
    on: bool
    notice: str = Field(default="", max_length=500)


class OfficeWordsIn(Body):
    matter: OfficeMatter
    words: list[Annotated[str, Field(min_length=1, max_length=office_matters.MAX_WORD_LENGTH)]] = (
        Field(default_factory=list, max_length=office_matters.MAX_EXTRA_WORDS_PER_MATTER)
    )


class OfficeSettings(Body):
    office_days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], max_length=7)
    office_starts: time = time(8, 0)
    office_ends: time = time(17, 0)
    phone: str = Field(default="", max_length=40)
    office_words: list[OfficeWordsIn] = Field(default_factory=list, max_length=7)


# -- status and the check before sending ---------------------------------------------------


@router.get("/messaging/status")
async def status(school_id: PathId, actor: Messenger, messaging: MessagingDep) -> dict[str, Any]:
    """Whether messaging is on, and whether the school and the office are in hours now."""
    return await handlers.status(actor.identity, messaging=messaging)


@router.post("/messaging/check")
async def check(
    school_id: PathId, body: CheckRequest, actor: Messenger, messaging: MessagingDep
) -> dict[str, Any]:
    """Before sending: does this look like office business, and does it name another pupil
    by their full name? Writes nothing."""
    identity = actor.identity
    settings = await handlers.settings_of(school_id, messaging=messaging)
    extra = {w["matter"]: w["words"] for w in settings["office_words"]}
    matter = None
    if identity.role is Role.parent and body.to == "class":
        found = office_matters.detect(body.text, extra_words=extra)
        if found is not None:
            matter = {"matter": found.matter, "matched": list(found.matched)}
    where: dict[str, Any] = {"school_id": school_id, "left": False}
    if identity.role is Role.parent:
        # a family is told of their children's classmates' names only: the check must not
        # answer "is there a pupil called ... at this school?" for any name one types
        children = await messaging.readmodels.get_many(PUPILS, identity.pupil_ids)
        classes = {c["class_id"] for c in children.values() if c["school_id"] == school_id}
        where["class_id"] = OneOf(tuple(sorted(classes)))
    pupils = await messaging.readmodels.find(PUPILS, where)
    own = set(identity.pupil_ids) | ({body.pupil_id} if body.pupil_id else set())
    named = full_names_in(
        body.text,
        ((p["pupil_id"], p["first_name"], p["surname"]) for p in pupils),
        except_ids=own,
    )
    by_id = {p["pupil_id"]: p for p in pupils}
    return {
        "office_matter": matter,
        "full_names": [
            {"pupil_id": pid, "name": f"{by_id[pid]['first_name']} {by_id[pid]['surname']}"}
            for pid in named
        ],
        "status": await handlers.status(identity, messaging=messaging),
    }


# -- conversations -------------------------------------------------------------------------


@router.get("/conversations", response_class=Response)
async def inbox(
    school_id: PathId,
    actor: Messenger,
    messaging: MessagingDep,
    before: Annotated[str | None, Query(max_length=40)] = None,
    after: After = None,
) -> Response:
    """Your conversations, newest first, with unread counts."""
    await handlers.caught_up_with(after, names=(CONVERSATIONS,), messaging=messaging)
    return _json(await handlers.inbox(actor.identity, messaging=messaging, before=before))


@router.get("/pupils/{pupil_id}/recipients")
async def recipients(
    school_id: PathId,
    pupil_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")],
    actor: Messenger,
    messaging: MessagingDep,
) -> dict[str, Any]:
    """Before writing about a pupil: the class staff's names, and how many parents have joined."""
    return await handlers.recipients(pupil_id, actor.identity, messaging=messaging)


@router.post("/conversations", status_code=201, response_model=Sent, responses=SENDS)
async def start(
    school_id: PathId, body: StartRequest, actor: Messenger, messaging: MessagingDep
) -> dict[str, Any]:
    """Start a conversation about a pupil: a parent with the class (or the office), or
    staff with one or all of the child's parents."""
    return await handlers.start_conversation(
        actor=actor,
        pupil_id=body.pupil_id,
        to_office=body.to == "office",
        parents=body.parents,
        text=body.text,
        attachments=_attachments(body.attachments),
        send_at=body.send_at,
        conversation_id=body.conversation_id,
        messaging=messaging,
    )


@router.post("/announcements", status_code=201, response_model=Sent, responses=SENDS)
async def announce(
    school_id: PathId, body: AnnounceRequest, actor: Messenger, messaging: MessagingDep
) -> dict[str, Any]:
    """Write to every family of a class; each reply comes back privately."""
    return await handlers.announce(
        actor=actor,
        class_id=body.class_id,
        text=body.text,
        attachments=_attachments(body.attachments),
        send_at=body.send_at,
        messaging=messaging,
    )


ConversationId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
MessageId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


@router.get("/conversations/{conversation_id}", response_class=Response)
async def conversation(
    school_id: PathId,
    conversation_id: ConversationId,
    actor: Messenger,
    messaging: MessagingDep,
    after: After = None,
) -> Response:
    """A conversation's messages as you may see them, oldest first."""
    await handlers.caught_up_with(after, names=(CONVERSATIONS, MESSAGES), messaging=messaging)
    return _json(await handlers.conversation(conversation_id, actor.identity, messaging=messaging))


@router.post(
    "/conversations/{conversation_id}/messages",
    status_code=201,
    response_model=Sent,
    responses=SENDS,
)
async def send(
    school_id: PathId,
    conversation_id: ConversationId,
    body: MessageRequest,
    actor: Messenger,
    messaging: MessagingDep,
) -> dict[str, Any]:
    """Write in a conversation. A family answering an announcement starts a private one."""
    return await handlers.reply(
        conversation_id,
        actor=actor,
        text=body.text,
        attachments=_attachments(body.attachments),
        send_at=body.send_at,
        message_id=body.message_id,
        messaging=messaging,
    )


@router.post("/conversations/{conversation_id}/read")
async def read(
    school_id: PathId,
    conversation_id: ConversationId,
    body: ReadRequest,
    actor: Messenger,
    messaging: MessagingDep,
) -> dict[str, Any]:
    """Mark the conversation read up to a message."""
    return await handlers.mark_read(
        conversation_id, body.through_message_id, actor=actor, messaging=messaging
    )


@router.post("/conversations/{conversation_id}/messages/{message_id}/withdraw")
async def withdraw(
    school_id: PathId,
    conversation_id: ConversationId,
    message_id: MessageId,
    actor: Messenger,
    messaging: MessagingDep,
) -> dict[str, Any]:
    """Take your own message back within ten minutes; it then reads "withdrawn"."""
    await handlers.withdraw(conversation_id, message_id, actor=actor, messaging=messaging)
    return {"message_id": message_id, "withdrawn": True}


@router.post(
    "/conversations/{conversation_id}/messages/{message_id}/report",
    status_code=201,
    responses=SENDS,
)
async def report(
    school_id: PathId,
    conversation_id: ConversationId,
    message_id: MessageId,
    body: ReportRequest,
    actor: Messenger,
    messaging: MessagingDep,
) -> dict[str, Any]:
    """Report a message to the school's leaders."""
    report_id = await handlers.report(
        conversation_id, message_id, body.reason, actor=actor, messaging=messaging
    )
    return {"report_id": report_id, "status": "open"}


@router.post("/conversations/{conversation_id}/pass")
async def pass_on(
    school_id: PathId,
    conversation_id: ConversationId,
    body: PassRequest,
    actor: Messenger,
    messaging: MessagingDep,
) -> dict[str, Any]:
    """Pass a family's conversation to the office, or from the office to the class."""
    return await handlers.pass_on(
        conversation_id, body.to, body.note, actor=actor, messaging=messaging
    )


@router.post("/conversations/{conversation_id}/messages/{message_id}/hide")
async def hide(
    school_id: PathId,
    conversation_id: ConversationId,
    message_id: MessageId,
    actor: Leader,
    messaging: MessagingDep,
) -> dict[str, Any]:
    """Leaders hide a message from the conversation; it is kept for the record."""
    await handlers.hide(conversation_id, message_id, actor=actor, messaging=messaging)
    return {"message_id": message_id, "hidden": True}


# -- photos and PDFs ----------------------------------------------------------------------


async def _read_limited(request: Request, limit: int) -> bytes:
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise FileTooLarge(f"Files can be at most {limit} bytes.", limit=limit)
    if not data:
        raise Unprocessable("Send the file as the request body.")
    return bytes(data)


class FileTooLarge(Problem):
    status, slug, title = 413, "file-too-large", "That file is too large"


@router.post(
    "/media",
    status_code=201,
    responses=problem_responses(413),
    dependencies=[allow_body(lambda r: r.app.state.messaging.settings.messaging_upload_max_bytes)],
    openapi_extra={"requestBody": {"content": {"application/octet-stream": {}}, "required": True}},
)
async def upload(
    school_id: PathId, request: Request, actor: Messenger, messaging: MessagingDep
) -> dict[str, Any]:
    """Upload a photo or PDF for a message (the raw file as the body); it is made safe first."""
    await handlers.may_upload(actor.identity, messaging=messaging)
    data = await _read_limited(request, messaging.settings.messaging_upload_max_bytes)
    return await handlers.upload_media(data, identity=actor.identity, messaging=messaging)


@router.get("/conversations/{conversation_id}/media/{media_id}", response_class=Response)
async def media(
    school_id: PathId,
    conversation_id: ConversationId,
    media_id: Annotated[str, Path(pattern=MEDIA_ID)],
    actor: Messenger,
    messaging: MessagingDep,
    size: Literal["full", "thumb"] = "full",
) -> Response:
    """A message's photo or PDF, for those who may read that message."""
    content_type, data = await handlers.media_bytes(
        conversation_id, media_id, size, actor.identity, messaging=messaging
    )
    disposition = "attachment" if content_type == "application/pdf" else "inline"
    return Response(
        data,
        media_type=content_type,
        headers={**MEDIA_HEADERS, "content-disposition": disposition},
    )


# -- absences ------------------------------------------------------------------------------


@router.post("/absences", status_code=201, responses=SENDS)
async def report_absence(
    school_id: PathId, body: AbsenceRequest, actor: Parent, messaging: MessagingDep
) -> dict[str, Any]:
    """Tell the office your child will be away: a record the office acts on."""
    return await handlers.report_absence(
        actor=actor,
        pupil_id=body.pupil_id,
        first_day=body.first_day,
        last_day=body.last_day,
        reason=body.reason,
        note=body.note,
        messaging=messaging,
    )


@router.get("/absences")
async def absences(
    school_id: PathId,
    actor: Messenger,
    messaging: MessagingDep,
    status: Literal["reported", "recorded"] | None = None,
    after: After = None,
) -> list[dict[str, Any]]:
    """The office's absence reports (a parent: their own children's)."""
    if actor.identity.role not in {Role.office, Role.leader, Role.parent}:
        raise Forbidden("absence reports are for the office, leaders and the child's parents")
    await handlers.caught_up_with(after, names=(ABSENCES,), messaging=messaging)
    return await handlers.absences(actor.identity, messaging=messaging, status=status)


@router.post("/absences/{absence_id}/record")
async def record_absence(
    school_id: PathId,
    absence_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")],
    actor: Office,
    messaging: MessagingDep,
) -> dict[str, Any]:
    """The office has put the absence in the register."""
    await handlers.record_absence(absence_id, actor=actor, messaging=messaging)
    return {"absence_id": absence_id, "status": "recorded"}


# -- leaders -------------------------------------------------------------------------------


@router.get("/reports")
async def reports(
    school_id: PathId,
    actor: Leader,
    messaging: MessagingDep,
    status: Literal["open", "resolved"] = "open",
    after: After = None,
) -> list[dict[str, Any]]:
    """Messages reported to the leaders."""
    await handlers.caught_up_with(after, names=(REPORTS,), messaging=messaging)
    return await handlers.reports(actor.identity, messaging=messaging, status=status)


@router.get("/reports/{report_id}")
async def report_detail(
    school_id: PathId,
    report_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")],
    actor: Leader,
    messaging: MessagingDep,
) -> dict[str, Any]:
    """A report with the conversation it came from."""
    return await handlers.report_with_conversation(report_id, actor.identity, messaging=messaging)


@router.post("/reports/{report_id}/resolve")
async def resolve(
    school_id: PathId,
    report_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")],
    body: ResolveRequest,
    actor: Leader,
    messaging: MessagingDep,
) -> dict[str, Any]:
    """Dismiss a report, hide the message, warn its sender, or record their suspension (a
    parent's account is suspended through the consent service first)."""
    return await handlers.resolve(
        report_id, body.action, body.note, actor=actor, messaging=messaging
    )


@router.get("/response-times")
async def response_times(
    school_id: PathId, actor: Leader, messaging: MessagingDep
) -> dict[str, Any]:
    """Conversations waiting longer than one school day, by class: counts, not staff."""
    return await handlers.response_times(actor.identity, messaging=messaging)


@router.post("/messaging/retention/run")
async def run_retention(
    school_id: PathId, actor: Leader, messaging: MessagingDep
) -> dict[str, int]:
    """Erase now the conversations past the school's retention (the service does it hourly)."""
    erased = await handlers.erase_old_conversations(school_id, messaging=messaging)
    return {"conversations_erased": erased}


@router.put("/messaging/switch")
async def switch(
    school_id: PathId, body: SwitchRequest, actor: Leader, messaging: MessagingDep
) -> dict[str, Any]:
    """Switch messaging off for the whole school, with a notice families see, or on again."""
    if not body.on and not body.notice.strip():
        raise Unprocessable("Say in a sentence why families cannot write for now.")
    return await handlers.switch(body.on, body.notice.strip(), actor=actor, messaging=messaging)


@router.get("/messaging/settings")
async def read_settings(
    school_id: PathId, actor: Messenger, messaging: MessagingDep
) -> dict[str, Any]:
    """The office's hours and phone number, and the school's own office words."""
    if not actor.identity.is_staff:
        raise Forbidden("only the school's staff can see this")
    settings = await handlers.settings_of(school_id, messaging=messaging)
    return {k: v for k, v in settings.items() if k != "school_id"}


@router.put("/messaging/settings")
async def change_settings(
    school_id: PathId, body: OfficeSettings, actor: Leader, messaging: MessagingDep
) -> dict[str, Any]:
    """Leaders set the office's hours and phone number and add office words."""
    return await handlers.change_office(
        actor=actor,
        days=tuple(body.office_days),
        starts=body.office_starts,
        ends=body.office_ends,
        phone=body.phone,
        words=tuple(
            OfficeWords(matter=w.matter, words=tuple(dict.fromkeys(x.strip() for x in w.words)))
            for w in body.office_words
        ),
        messaging=messaging,
    )


def create_app(messaging: Messaging) -> FastAPI:
    kit = Kit(
        name="messaging",
        settings=messaging.settings,
        clock=messaging.clock,
        ready_checks={
            "event_store": messaging.store.ping,
            "read_models": messaging.readmodels.ping,
        },
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = None
        if messaging.private is None:
            opened = await open_private_store(messaging.settings.private_store_location())
            messaging.private = opened
        retention = None
        if messaging.settings.messaging_retention:
            every = timedelta(seconds=messaging.settings.messaging_retention_every_seconds)
            retention = asyncio.create_task(
                handlers.keep_to_retention(messaging=messaging, every=every),
                name="messaging-retention",
            )
        try:
            yield
        finally:
            if retention is not None:
                retention.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await retention
            await messaging.decoder.close()
            if opened is not None:
                await opened.close()
                messaging.private = None

    app = create_service_app(kit, routers=[router], lifespan=lifespan)
    app.state.messaging = messaging
    return app
