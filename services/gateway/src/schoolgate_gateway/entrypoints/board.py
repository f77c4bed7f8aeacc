"""The class board: a classroom screen that shows one class's pupils and points, live.

A teacher shows a board code for one of their classes; the classroom screen types it and
gets a board session of its own (the ``schoolgate_board`` cookie, sent only to
``/api/board``). That session names a class and no person: it reads the class's board and
its live stream, and nothing else (every other route asks for a person's session). Staff
who may follow a class can open its board on their own screen with their own session.

The board shows what the whole room may see: each child's monster and the name the class
knows them by (a first name, a surname's first letter only where two share a first name),
the class's total, and well-done points as they land. Never a surname, a child's own total,
or a "needs work" note.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from schoolgate_kit.identity import Role
from schoolgate_kit.problems import NotFound, problem_responses

from schoolgate_gateway.bootstrap import BOARD_COOKIE, Gateway
from schoolgate_gateway.deps import (
    Address,
    BoardViewer,
    ClassFollower,
    CorrelationId,
    GatewayDep,
    PairedBoard,
)
from schoolgate_gateway.live import event_stream, last_seen
from schoolgate_gateway.people import SCHOOLS, classmates
from schoolgate_gateway.services import relay_response

router = APIRouter(prefix="/api", tags=["board"], responses=problem_responses(401, 403, 404))
ClassId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
COOKIE_PATH = "/api/board"


class BoardCode(BaseModel):
    code: str
    class_id: str
    expires_at: datetime


class Pairing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Annotated[str, Field(min_length=4, max_length=16)]


class Paired(BaseModel):
    class_id: str
    class_name: str


class BoardPupil(BaseModel):
    pupil_id: str
    name: str
    avatar: str | None = None


class ClassBoard(BaseModel):
    class_id: str
    class_name: str
    school_name: str
    pupils: list[BoardPupil]


async def _class_name(gateway: Gateway, school_id: str, class_id: str) -> tuple[str, str]:
    school = await gateway.readmodels.get(SCHOOLS, school_id) or {}
    classes: dict[str, str] = school.get("classes", {})
    if class_id not in classes:
        raise NotFound("There is no such class at this school.")
    return classes[class_id], str(school.get("name", ""))


# -- the teacher's side ----------------------------------------------------------------------


@router.post("/classes/{class_id}/board-code", status_code=201, response_model=BoardCode)
async def board_code(class_id: ClassId, staff: ClassFollower, gateway: GatewayDep) -> BoardCode:
    """A code to type on the classroom screen to show this class's board; it works once."""
    now, ttl = gateway.clock(), timedelta(minutes=gateway.settings.board_code_minutes)
    code = await gateway.accounts.new_board_code(staff.school_id, class_id, now, ttl)
    return BoardCode(code=code, class_id=class_id, expires_at=now + ttl)


@router.delete("/classes/{class_id}/boards")
async def end_boards(
    class_id: ClassId, staff: ClassFollower, gateway: GatewayDep
) -> dict[str, int]:
    """Stop every screen showing this class's board (and the code not used yet)."""
    return {"ended": await gateway.accounts.end_boards(class_id)}


# -- the board's side ------------------------------------------------------------------------


@router.post("/board/session", response_model=Paired, responses=problem_responses(429))
async def pair(body: Pairing, response: Response, gateway: GatewayDep, address: Address) -> Paired:
    """Show a class's board on this screen, with the code its teacher shows."""
    # one budget with the pupils' class codes: a guesser gains nothing by switching kind
    await gateway.limits.attempt(gateway.codes_per_address, address)
    hours = gateway.settings.board_session_hours
    paired = await gateway.accounts.pair_board(body.code, gateway.clock(), timedelta(hours=hours))
    if paired is None:
        raise NotFound("That board code is not right, or it was used already. Ask for a new one.")
    token, board = paired
    name, _ = await _class_name(gateway, board.school_id, board.class_id)
    response.set_cookie(
        BOARD_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=gateway.settings.secure_cookies,
        max_age=hours * 3600,
        path=COOKIE_PATH,
    )
    return Paired(class_id=board.class_id, class_name=name)


@router.get("/board/session", response_model=Paired)
async def paired_board(board: PairedBoard, gateway: GatewayDep) -> Paired:
    """Which class this screen's board shows."""
    name, _ = await _class_name(gateway, board.school_id, board.class_id)
    return Paired(class_id=board.class_id, class_name=name)


@router.delete("/board/session", status_code=204)
async def unpair(request: Request, gateway: GatewayDep) -> Response:
    """Stop showing the board on this screen."""
    token = request.cookies.get(BOARD_COOKIE)
    if token:
        await gateway.accounts.end_board(token)
    response = Response(status_code=204)
    response.delete_cookie(BOARD_COOKIE, path=COOKIE_PATH)
    return response


@router.get("/board/classes/{class_id}", response_model=ClassBoard)
async def class_board(class_id: ClassId, viewer: BoardViewer, gateway: GatewayDep) -> ClassBoard:
    """The class as its board shows it: each child's monster and class name."""
    name, school_name = await _class_name(gateway, viewer.school_id, class_id)
    pupils: list[dict[str, Any]] = await classmates(gateway.readmodels, class_id)
    return ClassBoard(
        class_id=class_id,
        class_name=name,
        school_name=school_name,
        pupils=[BoardPupil.model_validate(p) for p in pupils],
    )


@router.get("/board/classes/{class_id}/total")
async def board_total(
    class_id: ClassId,
    viewer: BoardViewer,
    gateway: GatewayDep,
    correlation: CorrelationId,
    after: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """The class's points this week and today (``after``: a live news position)."""
    answer = await gateway.points.call(
        "GET",
        f"/schools/{viewer.school_id}/classes/{class_id}/total",
        identity=viewer,
        correlation_id=correlation,
        params={} if after is None else {"after": after},
    )
    return relay_response(answer)


@router.get("/board/classes/{class_id}/live", response_class=StreamingResponse)
async def board_live(
    class_id: ClassId,
    request: Request,
    viewer: BoardViewer,
    gateway: GatewayDep,
    last_event_id: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> StreamingResponse:
    """The class's well-done points as they are given, as server-sent events."""
    await gateway.live.start()
    token = request.cookies.get(BOARD_COOKIE)

    async def still_paired() -> bool:
        if viewer.role is not Role.board:
            return True  # staff on their own screen: their session is checked as usual
        return (
            token is not None and await gateway.accounts.board(token, gateway.clock()) is not None
        )

    return event_stream(
        gateway.live.follow_board(
            viewer.school_id,
            class_id,
            last_seen=last_seen(last_event_id),
            still_paired=still_paired,
        )
    )
