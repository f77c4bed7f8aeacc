"""Errors are answers: RFC 9457 problem+json with a stable type for each kind of problem."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schoolgate_kit.eventstore.port import WrongExpectedVersion

if TYPE_CHECKING:
    # only the web apps need these; a process that merely raises problems (the roster's
    # file reader, spawned per upload) should not pay a second to import a web framework
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

PROBLEM_BASE = "https://schoolgate.example/problems/"
MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        return problem_body(self.status, self.slug, self.title, self.detail, instance, self.extra)


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Not allowed"


class Unauthenticated(Problem):
    status, slug, title = 401, "unauthenticated", "Sign-in needed"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Someone else changed this first"


class Unprocessable(Problem):
    status, slug, title = 422, "validation-error", "The request is not valid"


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "additionalProperties": True,
}
SAID = {
    401: "Nobody is signed in, or the sign-in has expired.",
    403: "Not yours to do or to see.",
    404: "No such thing, or not at this school.",
    409: "It conflicts with what is already there.",
    413: "The file is larger than this server takes.",
    429: "Too many at once, or too often: try again later.",
    502: "Another part of Schoolgate did not answer as it should: try again.",
    503: "Not possible on this server (it says why).",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A route's ``responses=``: the problems it may answer, documented as they come
    (``application/problem+json``), so its OpenAPI lists every status it really answers."""
    return {
        status: {
            "description": SAID[status],
            "content": {MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}},
        }
        for status in statuses
    }


def problem_body(
    status: int,
    slug: str,
    title: str,
    detail: str,
    instance: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra or {})
    return body


def _respond(request: Request, status: int, body: dict[str, Any]) -> JSONResponse:
    from fastapi.responses import JSONResponse

    body.setdefault("instance", request.url.path)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


def install_problem_handlers(app: FastAPI) -> None:
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return _respond(request, exc.status, exc.body())

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"location": list(err.get("loc", ())), "message": err.get("msg", "")}
            for err in exc.errors()
        ]
        return _respond(
            request,
            422,
            problem_body(
                422,
                "validation-error",
                "The request is not valid",
                "Some fields are missing or have the wrong form.",
                extra={"errors": errors},
            ),
        )

    async def on_conflict(request: Request, exc: Exception) -> JSONResponse:
        return _respond(request, 409, Conflict(str(exc)).body())

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        slug = {404: "not-found", 405: "method-not-allowed", 401: "unauthenticated"}.get(
            exc.status_code, "http-error"
        )
        return _respond(
            request,
            exc.status_code,
            problem_body(exc.status_code, slug, str(exc.detail), str(exc.detail)),
        )

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(WrongExpectedVersion, on_conflict)
    app.add_exception_handler(StarletteHTTPException, on_http)
