"""A family's export holds exactly their data: two families share a class, and neither's
archive says anything about the other's child. Real SQLite files, personal values sealed."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

from schoolgate_contracts import Event, Metadata, NewEvent
from schoolgate_contracts.consent import GuardianLinked, PupilCareStatusRecorded
from schoolgate_contracts.messaging import AbsenceReported, ConversationStarted, MessageSent
from schoolgate_contracts.points import PointAwarded
from schoolgate_contracts.roster import ClassAdded, PupilEnrolled, SchoolWayAdded
from schoolgate_contracts.stories import (
    Attachment,
    Audience,
    CommentAdded,
    PortfolioItemSubmitted,
    PostLiked,
    PostPublished,
)
from schoolgate_gateway.export import Subject, archive, collect
from schoolgate_kit.crypto import Keyring
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.keys import random_token
from schoolgate_kit.keystores import SqliteKeyStore

NOW = datetime(2026, 12, 7, 10, tzinfo=UTC)
SCHOOL, OTHER_SCHOOL = "sch_a", "sch_b"


def new(event: Event, school: str = SCHOOL) -> NewEvent:
    meta = Metadata(occurred_at=NOW, school_id=school, actor="stf_t", correlation_id="c")
    return NewEvent(event_id=uuid.uuid4(), event=event, metadata=meta)


def enrol(pupil: str, first: str, surname: str) -> PupilEnrolled:
    return PupilEnrolled(
        pupil_id=pupil, first_name=first, surname=surname, year_group_id="yg", class_id="cls_oak"
    )


def award(pupil: str) -> PointAwarded:
    return PointAwarded(
        award_id=uuid.uuid4().hex,
        pupil_id=pupil,
        class_id="cls_oak",
        school_way_id="way_kind",
        awarded_by="stf_t",
        school_date=date(2026, 12, 7),
        week_start=date(2026, 12, 7),
        awarded_at=NOW,
    )


async def a_class_of_two_families(store: SqliteEventStore) -> None:
    roster = [
        ClassAdded(class_id="cls_oak", name="Oak", year_group_id="yg"),
        SchoolWayAdded(school_way_id="way_kind", name="Kindness"),
        enrol("pup_ada", "Adaline", "Quorrington"),
        enrol("pup_ben", "Benedikt", "Yarrowby"),
    ]
    await store.append("roster-sch_a", [new(e) for e in roster], expected_version=None)
    # the other school's pupil with the same id and a name of its own
    await store.append(
        "roster-sch_b",
        [new(enrol("pup_ada", "Zenobia", "Elsewhere"), OTHER_SCHOOL)],
        expected_version=None,
    )
    post = PostPublished(
        post_id="post_1",
        author_id="stf_t",
        audience=Audience(kind="classes", class_ids=("cls_oak",)),
        text="Our trip to the farm",
        attachments=(
            Attachment(
                media_id="m_ada",
                kind="image",
                alt_text="Ada feeding lambs",
                tagged_pupil_ids=("pup_ada",),
            ),
            Attachment(
                media_id="m_ben",
                kind="image",
                alt_text="Ben on the tractor",
                tagged_pupil_ids=("pup_ben",),
            ),
        ),
        visible_from=NOW,
    )
    events = [
        ("award-1", award("pup_ada")),
        ("award-2", award("pup_ben")),
        ("post-post_1", post),
        ("post-post_1", PostLiked(post_id="post_1", parent_id="par_1")),
        (
            "post-post_1",
            CommentAdded(
                post_id="post_1",
                comment_id="c1",
                author_id="par_1",
                text="Ada talked about it all evening",
            ),
        ),
        (
            "post-post_1",
            CommentAdded(
                post_id="post_1",
                comment_id="c2",
                author_id="par_2",
                text="Ben wants to be a farmer now",
            ),
        ),
        (
            "portfolio-1",
            PortfolioItemSubmitted(
                item_id="i1", pupil_id="pup_ada", class_id="cls_oak", text="My volcano model"
            ),
        ),
        (
            "portfolio-2",
            PortfolioItemSubmitted(
                item_id="i2", pupil_id="pup_ben", class_id="cls_oak", text="My rocket drawing"
            ),
        ),
        (
            "guardianship-pup_ada",
            GuardianLinked(pupil_id="pup_ada", parent_id="par_1", invite_id="inv1"),
        ),
        (
            "guardianship-pup_ada",
            GuardianLinked(pupil_id="pup_ada", parent_id="par_3", invite_id="inv3"),
        ),
        (
            "guardianship-pup_ben",
            GuardianLinked(pupil_id="pup_ben", parent_id="par_2", invite_id="inv2"),
        ),
        (
            "guardianship-pup_ada",
            PupilCareStatusRecorded(pupil_id="pup_ada", in_care=True, recorded_by="stf_l"),
        ),
    ]
    for family, pupil, words in (
        ("par_1", "pup_ada", "Ada had a rough night's sleep"),
        ("par_2", "pup_ben", "Ben's rabbit died"),
    ):
        events += [
            (
                f"conversation-c_{family}",
                ConversationStarted(
                    conversation_id=f"c_{family}",
                    kind="family",
                    pupil_id=pupil,
                    class_id="cls_oak",
                    parent_ids=(family,),
                    started_by=family,
                    started_by_side="family",
                ),
            ),
            (
                f"conversation-c_{family}",
                MessageSent(
                    conversation_id=f"c_{family}",
                    message_id=f"m1_{family}",
                    sender_id=family,
                    side="family",
                    text=words,
                    visible_from=NOW,
                    pupil_id=pupil,
                    class_id="cls_oak",
                    parent_ids=(family,),
                ),
            ),
            (
                f"absence-a_{family}",
                AbsenceReported(
                    absence_id=f"a_{family}",
                    pupil_id=pupil,
                    class_id="cls_oak",
                    first_day=date(2026, 12, 7),
                    last_day=date(2026, 12, 8),
                    reason="sickness",
                    note=f"{words}: off sick",
                    reported_by=family,
                ),
            ),
        ]
    events.append(
        (
            "conversation-c_par_1",
            MessageSent(
                conversation_id="c_par_1",
                message_id="m2_par_1",
                sender_id="stf_t",
                side="school",
                text="Thank you, we will keep an eye on her",
                visible_from=NOW,
                pupil_id="pup_ada",
                class_id="cls_oak",
                parent_ids=("par_1",),
            ),
        )
    )
    for stream, event in events:
        await store.append(stream, [new(event)], expected_version=None)


async def fetch(media_id: str) -> tuple[str, bytes] | None:
    return ("image/png", f"PNG bytes of {media_id}".encode())


async def export_for(tmp_path: Path, subject: Subject) -> tuple[dict[str, object], bytes]:
    keyring = Keyring(random_token(), SqliteKeyStore(tmp_path / "private.db"))
    store = await SqliteEventStore.open(tmp_path / "events.db", clock=lambda: NOW, keyring=keyring)
    seen: list[float] = []

    async def progress(done: float) -> None:
        seen.append(done)

    try:
        await a_class_of_two_families(store)
        collected = await collect(store, subject, progress=progress)
    finally:
        await store.close()
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)
    zipped = await archive(collected, fetch)
    with zipfile.ZipFile(io.BytesIO(zipped)) as opened:
        names = set(opened.namelist())
        data = json.loads(opened.read("data.json"))
        everything = b"".join(opened.read(n) for n in names)
    assert {"data.json", "index.html"} <= names
    return data, everything


async def test_a_parents_export_holds_their_child_and_nothing_of_the_other_family(
    tmp_path: Path,
) -> None:
    subject = Subject(SCHOOL, "parent", "par_1", frozenset({"pup_ada"}))
    data, everything = await export_for(tmp_path, subject)
    for theirs in (
        b"Adaline",
        b"Quorrington",
        b"Kindness",
        b"My volcano model",
        b"Ada feeding lambs",
        b"PNG bytes of m_ada",
        b"Ada talked about it",
        b"Our trip to the farm",
        b"Ada had a rough night",
        b"we will keep an eye on her",
    ):
        assert theirs in everything, theirs
    for not_theirs in (
        b"Benedikt",
        b"Yarrowby",
        b"My rocket drawing",
        b"Ben on the tractor",
        b"m_ben",
        b"Ben wants to be a farmer",
        b"pup_ben",
        b"par_2",
        b"par_3",
        b"Zenobia",
        b"in_care",
        b"rabbit",
    ):
        assert not_theirs not in everything, not_theirs
    assert data["your_likes"] == ["post_1"]
    [conversation] = data["your_conversations_with_the_school"]  # type: ignore[misc]
    assert [m["from"] for m in conversation["messages"]] == ["you", "school"]
    [absence] = data["absences_you_reported"]  # type: ignore[misc]
    assert absence["reason"] == "sickness"
    assert [c["guardian"] for c in data["consent"]] == ["you", "another guardian"]  # type: ignore[index]


async def test_a_teachers_export_holds_the_messages_they_wrote(tmp_path: Path) -> None:
    data, everything = await export_for(tmp_path, Subject(SCHOOL, "staff", "stf_t", frozenset()))
    assert [m["text"] for m in data["messages_you_wrote"]] == [  # type: ignore[union-attr]
        "Thank you, we will keep an eye on her"
    ]
    assert b"rabbit" not in everything and b"rough night" not in everything


async def test_a_leaders_export_of_a_pupil_includes_their_care_status(tmp_path: Path) -> None:
    subject = Subject(SCHOOL, "pupil", "pup_ada", frozenset({"pup_ada"}))
    data, everything = await export_for(tmp_path, subject)
    assert b"in_care" in everything and b"Adaline" in everything
    assert b"Benedikt" not in everything and b"Ada talked about it" not in everything
    assert "your_likes" not in data
