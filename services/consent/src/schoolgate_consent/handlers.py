"""Command and query handlers: the message first, named dependencies after."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from schoolgate_contracts import Event, Metadata
from schoolgate_kit.commands import Decided, execute
from schoolgate_kit.directory import no_media_consent
from schoolgate_kit.eventstore import WrongExpectedVersion
from schoolgate_kit.problems import Conflict
from schoolgate_kit.projections import strip
from schoolgate_kit.readmodels import Doc

from schoolgate_consent import domain
from schoolgate_consent.adapters.private import Limit
from schoolgate_consent.bootstrap import Consent
from schoolgate_consent.projections import (
    ACTIVITY,
    INVITES,
    LINKS,
    MEDIA,
    NOTICES,
    PARENTS,
    POLICIES,
    PUPILS,
    not_suspended,
)

S = TypeVar("S")


@dataclass(frozen=True)
class Actor:
    """Who acts, for which school, under which correlation id."""

    subject: str
    school_id: str
    correlation_id: str


async def _run(
    consent: Consent,
    stream: str,
    actor: Actor,
    *,
    initial: Callable[[], S],
    evolve: Callable[[S, Event], S],
    decide: Callable[[S], Sequence[Event]],
    now: datetime | None = None,
) -> Decided[S]:
    return await execute(
        consent.store,
        stream,
        initial=initial,
        evolve=evolve,
        decide=decide,
        metadata=Metadata(
            occurred_at=now or consent.clock(),
            school_id=actor.school_id,
            actor=actor.subject,
            correlation_id=actor.correlation_id,
        ),
        new_id=consent.new_id,
    )


async def _on_pupil(
    consent: Consent,
    pupil_id: str,
    actor: Actor,
    decide: Callable[[domain.Pupil], Sequence[Event]],
    now: datetime | None = None,
) -> Decided[domain.Pupil]:
    return await _run(
        consent,
        domain.guardianship_stream(pupil_id),
        actor,
        initial=domain.initial_pupil,
        evolve=domain.evolve_pupil,
        decide=decide,
        now=now,
    )


# -- invites ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedInvite:
    invite_id: str
    pupil_id: str
    code: str
    expires_at: datetime


async def invite_lifetime_days(school_id: str, *, consent: Consent) -> int:
    policy = await consent.readmodels.get(POLICIES, school_id)
    days = None if policy is None else policy.get("invite_lifetime_days")
    return int(days) if days else consent.settings.invite_lifetime_days


async def issue_invite(
    pupil_id: str, expires_in_days: int | None, *, actor: Actor, consent: Consent
) -> IssuedInvite:
    now = consent.clock()
    days = expires_in_days or await invite_lifetime_days(actor.school_id, consent=consent)
    command = domain.IssueInvite(
        invite_id=consent.new_id().hex,
        pupil_id=pupil_id,
        issued_by=actor.subject,
        expires_at=domain.invite_expiry(now, days),
    )
    # the secret goes to the private store first: an invite event never exists without it
    code = await consent.private.add_code(
        consent.new_code, command.invite_id, pupil_id, actor.school_id, command.expires_at
    )
    await _on_pupil(consent, pupil_id, actor, lambda s: domain.decide_issue_invite(s, command), now)
    return IssuedInvite(command.invite_id, pupil_id, code, command.expires_at)


async def print_letter(invite_id: str, pupil_id: str, *, actor: Actor, consent: Consent) -> None:
    """Record that ``actor`` read an open invite's code; refuse if it is no longer open.

    Recorded before the code is shown: a code nobody can account for is never handed out."""
    now = consent.clock()
    command = domain.PrintLetter(invite_id=invite_id, pupil_id=pupil_id, printed_by=actor.subject)
    await _on_pupil(
        consent, pupil_id, actor, lambda s: domain.decide_print_letter(s, command, now), now
    )


async def revoke_invite(invite_id: str, pupil_id: str, *, actor: Actor, consent: Consent) -> None:
    command = domain.RevokeInvite(invite_id=invite_id, pupil_id=pupil_id, revoked_by=actor.subject)
    await _on_pupil(consent, pupil_id, actor, lambda s: domain.decide_revoke_invite(s, command))
    # after the log says so: a code deleted first, with the append failing, would leave an
    # open invite nobody can use or reprint
    await consent.private.forget_code(invite_id)


@dataclass(frozen=True)
class Redemption:
    outcome: domain.Outcome
    pupil_id: str
    school_id: str


async def check_invite(
    typed_code: str, *, parent_id: str, staff_account: bool, address: str, consent: Consent
) -> None:
    """Whether redeeming the code now would be taken, deciding as ``redeem`` does and
    appending nothing: a family's account is made only for a code that works. A code that
    does not work counts against redeeming's limits, so checking is no cheaper a way to
    guess codes; one that works counts once, when it is redeemed."""
    settings = consent.settings
    limits = [
        Limit(f"parent:{parent_id}", settings.redeem_attempts_per_parent),
        Limit(f"address:{address}", settings.redeem_attempts_per_address),
    ]
    await consent.private.refuse_if_spent(limits, consent.clock())
    try:
        found = await consent.private.by_code(domain.normalise_code(typed_code))
        if found is None:
            raise domain.InviteNotValid()
        state = domain.initial_pupil()
        stream = domain.guardianship_stream(found.pupil_id)
        for recorded in await consent.store.read_stream(stream):
            state = domain.evolve_pupil(state, recorded.event)
        command = domain.RedeemInvite(found.invite_id, found.pupil_id, parent_id, staff_account)
        domain.decide_redeem(state, command, consent.clock())
    except domain.InviteNotValid:
        await consent.private.attempt(limits, settings.redeem_window_seconds, consent.clock())
        raise


async def redeem(
    typed_code: str,
    *,
    parent_id: str,
    staff_account: bool,
    address: str,
    correlation_id: str,
    consent: Consent,
) -> Redemption:
    settings = consent.settings
    await consent.private.attempt(
        [
            Limit(f"parent:{parent_id}", settings.redeem_attempts_per_parent),
            Limit(f"address:{address}", settings.redeem_attempts_per_address),
        ],
        settings.redeem_window_seconds,
        consent.clock(),
    )
    found = await consent.private.by_code(domain.normalise_code(typed_code))
    if found is None:
        raise domain.InviteNotValid()
    command = domain.RedeemInvite(found.invite_id, found.pupil_id, parent_id, staff_account)
    actor = Actor(subject=parent_id, school_id=found.school_id, correlation_id=correlation_id)
    # Parents redeeming for one pupil at once all append to the pupil's one stream. Each
    # round at least one of them wins, and every one has a definite answer (linked, or
    # waiting for a leader), so deciding again until it lands is right where a 409 would
    # be wrong. The kit decides twice per call; a few calls cover a family's worth of
    # simultaneous redeemers, with a little jitter so they stop colliding in lockstep.
    rounds = settings.redeem_conflict_rounds
    for round_ in range(1, rounds + 1):
        now = consent.clock()
        try:
            decided = await _on_pupil(
                consent,
                found.pupil_id,
                actor,
                lambda s: domain.decide_redeem(s, command, now),  # noqa: B023
                now,
            )
        except Conflict as exc:
            if round_ == rounds or not isinstance(exc.__cause__, WrongExpectedVersion):
                raise
            await asyncio.sleep(random.uniform(0, 0.005 * round_))
            continue
        if decided.state.invites[found.invite_id].used_by == parent_id:
            await consent.private.code_used(found)
        return Redemption(
            domain.outcome_for(decided.state, parent_id), found.pupil_id, found.school_id
        )
    raise AssertionError("unreachable")


# -- guardianship, care and media --------------------------------------------------------------


async def decide_guardian_request(
    command: domain.DecideRequest, *, actor: Actor, consent: Consent
) -> None:
    await _on_pupil(consent, command.pupil_id, actor, lambda s: domain.decide_request(s, command))


async def record_care_status(
    command: domain.RecordCareStatus, *, actor: Actor, consent: Consent
) -> None:
    await _on_pupil(
        consent, command.pupil_id, actor, lambda s: domain.decide_care_status(s, command)
    )


async def record_media_exception(
    command: domain.RecordMediaException, *, actor: Actor, consent: Consent
) -> None:
    await _on_pupil(
        consent, command.pupil_id, actor, lambda s: domain.decide_media_exception(s, command)
    )


async def set_media_consent(
    command: domain.SetMediaConsent, *, actor: Actor, consent: Consent
) -> bool:
    """Record the choice; answer whether the pupil may now appear in media."""
    decided = await _on_pupil(
        consent, command.pupil_id, actor, lambda s: domain.decide_media_consent(s, command)
    )
    return decided.state.may_appear


# -- school policy -----------------------------------------------------------------------------


async def _on_policy(
    consent: Consent, actor: Actor, decide: Callable[[domain.Policy], Sequence[Event]]
) -> domain.Policy:
    decided = await _run(
        consent,
        domain.policy_stream(actor.school_id),
        actor,
        initial=domain.initial_policy,
        evolve=domain.evolve_policy,
        decide=decide,
    )
    return decided.state


async def publish_code_of_conduct(text: str, *, actor: Actor, consent: Consent) -> int:
    policy = await _on_policy(
        consent, actor, lambda s: domain.decide_publish_conduct(s, text, actor.subject)
    )
    return policy.conduct_version


async def set_invite_lifetime(days: int, *, actor: Actor, consent: Consent) -> None:
    await _on_policy(
        consent, actor, lambda s: domain.decide_invite_lifetime(s, days, actor.subject)
    )


# -- parent accounts ---------------------------------------------------------------------------


async def _on_parent(
    consent: Consent,
    parent_id: str,
    actor: Actor,
    decide: Callable[[domain.Parent], Sequence[Event]],
) -> None:
    await _run(
        consent,
        domain.parent_stream(parent_id),
        actor,
        initial=domain.initial_parent,
        evolve=domain.evolve_parent,
        decide=decide,
    )


async def accept_code_of_conduct(version: int, *, actor: Actor, consent: Consent) -> None:
    # the command side reads the school's policy stream itself: accepting an outdated
    # version because a read model lagged would be recorded as a fact
    history = await consent.store.read_stream(domain.policy_stream(actor.school_id))
    policy = domain.initial_policy()
    for recorded in history:
        policy = domain.evolve_policy(policy, recorded.event)
    command = domain.AcceptCodeOfConduct(actor.subject, actor.school_id, version)
    await _on_parent(
        consent,
        actor.subject,
        actor,
        lambda s: domain.decide_accept_conduct(s, command, policy.conduct_version),
    )


async def suspend_parent(parent_id: str, reason: str, *, actor: Actor, consent: Consent) -> None:
    await _on_parent(
        consent,
        parent_id,
        actor,
        lambda s: domain.decide_suspend(s, parent_id, actor.subject, reason),
    )


async def lift_suspension(parent_id: str, *, actor: Actor, consent: Consent) -> None:
    await _on_parent(
        consent,
        parent_id,
        actor,
        lambda s: domain.decide_lift_suspension(s, parent_id, actor.subject),
    )


async def close_parent_account(
    parent_id: str, pupil_ids: Sequence[str], *, actor: Actor, consent: Consent
) -> list[str]:
    """The parent leaves every child they were linked to at the school (those named, and
    those the read models know of), then the closure is recorded; the pupils they left.
    Their key is destroyed by the caller first (the gateway): this is what the school's
    records say afterwards. Doing it again removes nothing more."""
    known = await consent.readmodels.find(
        LINKS, {"parent_id": parent_id, "school_id": actor.school_id}
    )
    left = []
    for pupil_id in sorted({*pupil_ids, *(d["pupil_id"] for d in known)}):

        def leave(state: domain.Pupil, pupil_id: str = pupil_id) -> list[Event]:
            return domain.decide_remove_guardian(state, pupil_id, parent_id)

        decided = await _on_pupil(consent, pupil_id, actor, leave)
        if decided.events:
            left.append(pupil_id)
    await _run(
        consent,
        domain.closures_stream(actor.school_id),
        actor,
        initial=domain.initial_closures,
        evolve=domain.evolve_closures,
        decide=lambda closed: domain.decide_close(closed, parent_id),
    )
    return left


# -- queries: read models only -----------------------------------------------------------------


async def media_of(pupil_id: str, school_id: str, *, consent: Consent) -> Doc:
    return strip(await consent.readmodels.get(MEDIA, pupil_id)) or no_media_consent(
        pupil_id, school_id
    )


async def school_media(school_id: str, *, consent: Consent) -> list[Doc]:
    docs = await consent.readmodels.find(MEDIA, {"school_id": school_id}, order_by="pupil_id")
    return [d for d in (strip(doc) for doc in docs) if d is not None]


async def links_of_pupil(pupil_id: str, *, consent: Consent) -> list[Doc]:
    """The pupil's guardians and requests; not those who closed their account (the invite
    activity says when they did)."""
    docs = await consent.readmodels.find(LINKS, {"pupil_id": pupil_id}, order_by="since")
    return [d for d in (strip(doc) for doc in docs) if d is not None and d["status"] != "removed"]


async def children_of(parent_id: str, *, consent: Consent) -> list[Doc]:
    docs = await consent.readmodels.find(LINKS, {"parent_id": parent_id}, order_by="since")
    children = []
    for link in (d for d in (strip(doc) for doc in docs) if d is not None):
        if link["status"] == "removed":
            continue
        child = {k: link[k] for k in ("pupil_id", "school_id", "status", "since")}
        if link["status"] == "linked":
            media = await media_of(link["pupil_id"], link["school_id"], consent=consent)
            child["media"] = {k: media[k] for k in ("granted", "may_appear")}
        children.append(child)
    return children


async def linked_parent(pupil_id: str, parent_id: str, *, consent: Consent) -> bool:
    docs = await consent.readmodels.find(
        LINKS, {"pupil_id": pupil_id, "parent_id": parent_id, "status": "linked"}, limit=1
    )
    return bool(docs)


async def parent_known_in_school(parent_id: str, school_id: str, *, consent: Consent) -> bool:
    """A parent belongs to a school through a link or request for one of its pupils."""
    docs = await consent.readmodels.find(
        LINKS, {"parent_id": parent_id, "school_id": school_id}, limit=1
    )
    return bool(docs)


async def pending_requests(school_id: str, *, consent: Consent) -> list[Doc]:
    docs = await consent.readmodels.find(
        LINKS, {"school_id": school_id, "status": "pending"}, order_by="since"
    )
    return [d for d in (strip(doc) for doc in docs) if d is not None]


async def invites_of_pupil(pupil_id: str, *, consent: Consent) -> list[Doc]:
    now = consent.clock()
    docs = await consent.readmodels.find(INVITES, {"pupil_id": pupil_id}, order_by="issued_at")
    shown = []
    for doc in (d for d in (strip(doc) for doc in docs) if d is not None):
        if doc["status"] == "open" and datetime.fromisoformat(doc["expires_at"]) <= now:
            doc = {**doc, "status": "expired"}
        shown.append(doc)
    return shown


async def pupils_on_roll(school_id: str, class_id: str | None, *, consent: Consent) -> list[Doc]:
    """The school's pupils on roll (of one class, or all), by class, surname and first name."""
    where: Doc = {"school_id": school_id, "left": False}
    if class_id is not None:
        where["class_id"] = class_id
    found = [strip(doc) or {} for doc in await consent.readmodels.find(PUPILS, where)]
    return sorted(found, key=lambda p: (p["class_id"], p["surname"], p["first_name"]))


async def pupil_name(pupil_id: str, *, consent: Consent) -> str | None:
    pupil = await consent.readmodels.get(PUPILS, pupil_id)
    return None if pupil is None else f"{pupil['first_name']} {pupil['surname']}"


async def code_of_conduct(school_id: str, *, consent: Consent) -> Doc | None:
    policy = strip(await consent.readmodels.get(POLICIES, school_id))
    if policy is None or not policy.get("conduct_version"):
        return None
    return {
        "school_id": school_id,
        "version": policy["conduct_version"],
        "text": policy["conduct_text"],
        "published_at": policy["conduct_published_at"],
    }


async def parent(parent_id: str, *, consent: Consent) -> Doc:
    return strip(await consent.readmodels.get(PARENTS, parent_id)) or not_suspended(parent_id)


@dataclass(frozen=True)
class Page:
    items: list[Doc]
    next_before: int | None
    """Pass as ``before`` for the next (older) page; None on the last page."""


async def _newest_first(
    consent: Consent, projection: str, where: Doc, before: int | None, limit: int
) -> Page:
    docs = await consent.readmodels.find(
        projection,
        where,
        order_by="seq",
        descending=True,
        limit=limit + 1,
        before=None if before is None else ("seq", before),
    )
    items = [d for d in (strip(doc) for doc in docs) if d is not None]
    more = len(items) > limit
    items = items[:limit]
    return Page(items, int(items[-1]["seq"]) if more else None)


async def invite_activity(
    school_id: str, *, before: int | None, limit: int, consent: Consent
) -> Page:
    return await _newest_first(consent, ACTIVITY, {"school_id": school_id}, before, limit)


async def notices_for(
    audience: str, recipient: str, *, before: int | None, limit: int, consent: Consent
) -> Page:
    where = {"audience": audience, "recipient": recipient}
    return await _newest_first(consent, NOTICES, where, before, limit)


async def conduct_acceptance(school_id: str, parent_id: str, *, consent: Consent) -> Doc:
    conduct = await code_of_conduct(school_id, consent=consent)
    current = 0 if conduct is None else int(conduct["version"])
    accepted = (await parent(parent_id, consent=consent))["accepted"].get(school_id)
    return {
        "school_id": school_id,
        "parent_id": parent_id,
        "current_version": current or None,
        "accepted_version": accepted,
        "accepted": bool(current) and accepted == current,
    }
