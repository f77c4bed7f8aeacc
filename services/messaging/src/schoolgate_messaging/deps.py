"""FastAPI dependencies of the messaging service: its parts, and who may do what.

Every route acts within the school of the identity token and the path. Pupils and class
boards never message; school administrators (IT) do not read families' messages. Which
conversation a person may read or write is decided per conversation in ``access``. Before
any of this, every identity passes ``conduct_gate``: a parent who has not accepted the
school's current code of conduct may do nothing here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from schoolgate_kit.app import correlation_id
from schoolgate_kit.directory import conduct_gate as _conduct_gate
from schoolgate_kit.identity import CLASSROOM_ROLES, CurrentIdentity, Identity, Role
from schoolgate_kit.problems import Forbidden
from schoolgate_kit.readmodels import ReadModelStore

from schoolgate_messaging.bootstrap import Messaging
from schoolgate_messaging.handlers import Actor
from schoolgate_messaging.projections import CONDUCT

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
PathId = Annotated[str, Path(pattern=ID_PATTERN)]
MESSENGERS = CLASSROOM_ROLES | {Role.parent, Role.office, Role.leader}
OFFICE = frozenset({Role.office, Role.leader})


async def _messaging(request: Request) -> Messaging:
    messaging: Messaging = request.app.state.messaging
    return messaging


def _readmodels(request: Request) -> ReadModelStore:
    messaging: Messaging = request.app.state.messaging
    return messaging.readmodels


conduct_gate = _conduct_gate(CONDUCT, _readmodels)


def _role_in(roles: frozenset[Role], refusal: str):  # type: ignore[no-untyped-def]
    """One parametrised check: the path's school is the identity's, and its role is one of
    ``roles``."""

    async def check(
        school_id: PathId, identity: CurrentIdentity, correlation: CorrelationId
    ) -> Actor:
        if identity.school_id != school_id:
            raise Forbidden("that is another school")
        if identity.role not in roles:
            raise Forbidden(refusal)
        return Actor(identity, correlation)

    return check


CorrelationId = Annotated[str, Depends(correlation_id)]
MessagingDep = Annotated[Messaging, Depends(_messaging)]
Messenger = Annotated[
    Actor, Depends(_role_in(MESSENGERS, "messages are between the school's staff and families"))
]
Parent = Annotated[Actor, Depends(_role_in(frozenset({Role.parent}), "this is for parents"))]
Office = Annotated[Actor, Depends(_role_in(OFFICE, "this is for the school office and leaders"))]
Leader = Annotated[Actor, Depends(_role_in(frozenset({Role.leader}), "this is for leaders"))]


def identity_of(actor: Actor) -> Identity:
    return actor.identity
