"""Conversations nobody wrote in for longer than the school keeps messages are erased: their
words read as removed in the log, and the inboxes no longer hold them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from schoolgate_contracts import Metadata, NewEvent
from schoolgate_contracts.messaging import ConversationStarted, MessageSent
from schoolgate_contracts.privacy import REMOVED
from schoolgate_contracts.roster import Retention, RetentionSet
from schoolgate_kit.crypto import Keyring
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.keystores import SqliteKeyStore

from services.messaging.tests.integration.conftest import School, start


async def _old_conversation(school: School, *, age: timedelta) -> str:
    """A conversation last written in ``age`` ago, appended as the service would have."""
    conversation_id = uuid.uuid4().hex
    then = datetime.now(UTC) - age
    metadata = Metadata(
        occurred_at=then, school_id=school.id, actor="parent-of-ada", correlation_id="old"
    )
    events = [
        ConversationStarted(
            conversation_id=conversation_id,
            kind="family",
            pupil_id=school.p("ada"),
            class_id="oak",
            parent_ids=("parent-of-ada",),
            started_by="parent-of-ada",
            started_by_side="family",
        ),
        MessageSent(
            conversation_id=conversation_id,
            message_id=uuid.uuid4().hex,
            sender_id="parent-of-ada",
            side="family",
            text="Fred's rabbit died",
            visible_from=then,
            pupil_id=school.p("ada"),
            class_id="oak",
            parent_ids=("parent-of-ada",),
        ),
    ]
    keyring = _keyring(school)
    store = await SqliteEventStore.open(
        school.service.events_db, clock=lambda: then, keyring=keyring
    )
    try:
        await store.append(
            f"conversation-{conversation_id}",
            [NewEvent(event_id=uuid.uuid4(), event=e, metadata=metadata) for e in events],
            expected_version=None,
        )
    finally:
        await store.close()
        keyring.store.close()
    return conversation_id


def _keyring(school: School) -> Keyring:
    """The deployment's keys, as its processes open them: sealed as the service seals."""
    return Keyring(
        school.service.env["SCHOOLGATE_MASTER_KEY"],
        SqliteKeyStore(school.service.data_dir / "private.db"),
    )


async def test_a_school_keeping_twelve_months_loses_an_older_conversation_only(
    client: httpx.AsyncClient, school: School
) -> None:
    old = await _old_conversation(school, age=timedelta(days=400))
    kept = await _old_conversation(school, age=timedelta(days=300))
    recent = (await start(client, school, school.parent("ada")))["conversation_id"]
    await school.service.append(
        f"roster-{school.id}-retention",
        school.id,
        RetentionSet(retention=Retention(messages_kept_months=12), set_by="leader"),
    )
    await school.caught_up()

    run = await client.post(school.path("/messaging/retention/run"), headers=school.leader)
    assert run.status_code == 200, run.text
    assert run.json() == {"conversations_erased": 1}
    await school.caught_up()

    path = school.path(f"/conversations/{old}")
    assert (await client.get(path, headers=school.parent("ada"))).status_code == 404
    inbox = (await client.get(school.path("/conversations"), headers=school.teacher)).json()
    assert {c["conversation_id"] for c in inbox["conversations"]} == {kept, recent}
    again = await client.post(school.path("/messaging/retention/run"), headers=school.leader)
    assert again.json() == {"conversations_erased": 0}

    # the log itself, read with the deployment's keys: the old words are gone for good
    keyring = _keyring(school)
    store = await SqliteEventStore.open(
        school.service.events_db, clock=lambda: datetime.now(UTC), keyring=keyring
    )
    try:
        said = {
            c: [
                e.event.text
                for e in await store.read_stream(f"conversation-{c}")
                if isinstance(e.event, MessageSent)
            ]
            for c in (old, kept)
        }
    finally:
        await store.close()
        keyring.store.close()
    assert said == {old: [REMOVED], kept: ["Fred's rabbit died"]}


async def test_only_a_leader_runs_retention(client: httpx.AsyncClient, school: School) -> None:
    for headers in (school.teacher, school.office, school.parent("ada"), school.other_teacher):
        answer = await client.post(school.path("/messaging/retention/run"), headers=headers)
        assert answer.status_code == 403
