"""``POST /api/unsubscribe?t=...``: one-click unsubscribe (RFC 8058) from one kind of email.

A mail program posts ``List-Unsubscribe=One-Click`` to the address an email's
``List-Unsubscribe`` header gives, with no session and often from the mail provider's own
servers; the web app's unsubscribe page posts the same for a person who followed the link in
the email's footer. The token in the address (``schoolgate_kit.unsubscribe``) names the one
person and kind of email, and the gateway changes that person's choices on their behalf:
email off for that kind, nothing else. A GET changes nothing, because mail scanners fetch
every link they see.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from schoolgate_kit import unsubscribe
from schoolgate_kit.app import correlation_id
from schoolgate_kit.problems import problem_responses

from schoolgate_gateway.deps import GatewayDep
from schoolgate_gateway.services import relay_response

router = APIRouter(prefix="/api", tags=["notifications"])
Token = Annotated[str, Query(alias="t", min_length=20, max_length=2000)]


@router.post("/unsubscribe", responses=problem_responses(401))
async def one_click(
    t: Token, gateway: GatewayDep, correlation: Annotated[str, Depends(correlation_id)]
) -> Response:
    """Stop the emails of one kind for the person the link was made for."""
    stop = unsubscribe.verify(
        t, secret=gateway.settings.identity_secret.get_secret_value(), now=gateway.clock()
    )
    school = stop.identity.school_id
    answer = await gateway.services["notifications"].call(
        "PUT",
        f"/schools/{school}/notifications/preferences",
        identity=stop.identity,
        correlation_id=correlation,
        json={"choices": {stop.kind: {"email": "off"}}},
    )
    if answer.status_code != 200:
        return relay_response(answer)
    return Response(
        content=b'{"unsubscribed":"' + stop.kind.encode() + b'"}',
        media_type="application/json",
    )
