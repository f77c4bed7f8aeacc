"""One-click unsubscribe links (RFC 8058): a token that turns off one kind of email for one
person, and nothing else.

It is signed with the deployment's identity secret but for its own audience, so it can never
pass as an identity token (nor one as it): whoever holds an email can stop that kind of
email, as the RFC intends, and cannot read or do anything else. It names the person's role,
so the gateway can change their choices on their behalf without a session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from schoolgate_kit.identity import ALGORITHM, Identity, Role
from schoolgate_kit.problems import Unauthenticated

AUDIENCE = "schoolgate-unsubscribe"
LIFETIME = timedelta(days=180)
"""An old email's link still works for a school year: people unsubscribe from what they find
in their inbox, often months later."""


@dataclass(frozen=True)
class Unsubscribe:
    identity: Identity
    kind: str


def sign(identity: Identity, kind: str, *, secret: str, now: datetime) -> str:
    claims = {
        "sub": identity.subject,
        "role": identity.role.value,
        "school": identity.school_id,
        "kind": kind,
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + LIFETIME).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify(token: str, *, secret: str, now: datetime) -> Unsubscribe:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["exp", "sub", "aud"], "verify_exp": False, "verify_iat": False},
        )
        identity = Identity(
            subject=str(claims["sub"]), role=Role(claims["role"]), school_id=str(claims["school"])
        )
        kind = str(claims["kind"])
    except (jwt.InvalidTokenError, KeyError, ValueError) as exc:
        raise Unauthenticated("This unsubscribe link is not one of ours.") from exc
    if int(claims["exp"]) < now.timestamp():
        raise Unauthenticated("This unsubscribe link is too old; change your choices in the app.")
    return Unsubscribe(identity, kind)
