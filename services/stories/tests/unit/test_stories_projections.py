"""The stories read models fold events into documents: posts as they are now, likes,
portfolio items, and whether a pupil may appear in media (the consent service's rule)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from schoolgate_contracts import Event, RecordedEvent
from schoolgate_contracts.consent import (
    MediaConsentExceptionRecorded,
    MediaConsentGranted,
    MediaConsentWithdrawn,
    PupilCareStatusRecorded,
)
from schoolgate_contracts.stories import (
    Attachment,
    Audience,
    PortfolioItemApproved,
    PortfolioItemSentBack,
    PortfolioItemSubmitted,
    PostDeleted,
    PostEdited,
    PostLiked,
    PostPublished,
    PostUnliked,
)
from schoolgate_kit.projections import Projection, fold
from schoolgate_kit.readmodels import Doc
from schoolgate_kit.testing.events import recorded as kit_recorded
from schoolgate_stories.projections import (
    likes,
    media_consent,
    media_marker,
    portfolio,
    posts,
)

AT = datetime(2026, 11, 16, 9, tzinfo=UTC)
PHOTO = Attachment(media_id="m1", kind="image", tagged_pupil_ids=("ada",))
PDF = Attachment(media_id="m2", kind="document")


def recorded(position: int, event: Event) -> RecordedEvent:
    return kit_recorded(position, event, at=AT)


def folded(projection: Projection, *events: Event) -> dict[str, Doc | None]:
    docs: dict[str, Doc | None] = {}
    history = [recorded(i, e) for i, e in enumerate(events, start=1)]
    for event in history:
        docs.update(fold(projection, docs, [event]))
    return {
        k: None if v is None else {f: x for f, x in v.items() if f != "_position"}
        for k, v in docs.items()
    }


def test_a_post_is_one_document_with_a_marker_per_media() -> None:
    publish = PostPublished(
        post_id="p1",
        author_id="t1",
        audience=Audience(kind="classes", class_ids=("oak", "ash")),
        text="Hello",
        attachments=(PHOTO, PDF),
        visible_from=AT,
    )
    doc = folded(posts, publish)["p1"]
    assert doc is not None
    assert doc["audience"] == {
        "kind": "classes",
        "class_ids": ["oak", "ash"],
        "year_group_id": None,
    }
    assert doc[media_marker("m1")] is True and doc[media_marker("m2")] is True
    assert doc["school_id"] == "s1" and doc["visible_from"] == "2026-11-16T09:00:00+00:00"

    edit = PostEdited(post_id="p1", edited_by="t1", text="Hi", attachments=(PDF,), visible_from=AT)
    edited = folded(posts, publish, edit)["p1"]
    assert edited is not None
    assert media_marker("m1") not in edited and edited[media_marker("m2")] is True
    assert [a["media_id"] for a in edited["attachments"]] == ["m2"]
    assert edited["text"] == "Hi" and edited["edited_at"] is not None

    gone = folded(posts, publish, PostDeleted(post_id="p1", deleted_by="t1"))
    assert gone["p1"] is None


def test_a_like_is_a_document_until_taken_back() -> None:
    liked = PostLiked(post_id="p1", parent_id="parent-1")
    assert folded(likes, liked)["p1:parent-1"] == {
        "post_id": "p1",
        "parent_id": "parent-1",
        "school_id": "s1",
        "liked_at": AT.isoformat(),
    }
    assert (
        folded(likes, liked, PostUnliked(post_id="p1", parent_id="parent-1"))["p1:parent-1"] is None
    )


def test_a_portfolio_item_goes_through_review() -> None:
    submit = PortfolioItemSubmitted(
        item_id="i1", pupil_id="ada", class_id="oak", text="Rocket", attachments=(PHOTO,)
    )
    back = PortfolioItemSentBack(
        item_id="i1", pupil_id="ada", class_id="oak", note="Add a title", sent_back_by="t1"
    )
    doc = folded(portfolio, submit, back)["i1"]
    assert doc is not None and (doc["status"], doc["note"]) == ("sent_back", "Add a title")
    again = PortfolioItemSubmitted(item_id="i1", pupil_id="ada", class_id="oak", text="Rocket!")
    approved = PortfolioItemApproved(item_id="i1", pupil_id="ada", class_id="oak", approved_by="t1")
    doc = folded(portfolio, submit, back, again, approved)["i1"]
    assert doc is not None
    assert (doc["status"], doc["note"], doc["text"]) == ("approved", None, "Rocket!")
    assert media_marker("m1") not in doc and doc["attachments"] == []


GRANT = MediaConsentGranted(pupil_id="ada", granted_by="parent-1")
WITHDRAW = MediaConsentWithdrawn(pupil_id="ada", withdrawn_by="parent-1")
IN_CARE = PupilCareStatusRecorded(pupil_id="ada", in_care=True, recorded_by="leader-1")
NOT_IN_CARE = PupilCareStatusRecorded(pupil_id="ada", in_care=False, recorded_by="leader-1")
EXCEPTION = MediaConsentExceptionRecorded(pupil_id="ada", recorded_by="leader-1", reason="LA ok")


@pytest.mark.parametrize(
    ("events", "may_appear"),
    [
        ((), False),
        ((GRANT,), True),
        ((GRANT, WITHDRAW), False),
        ((GRANT, WITHDRAW, GRANT), True),
        ((GRANT, IN_CARE), False),
        ((IN_CARE, GRANT), False),
        ((GRANT, IN_CARE, EXCEPTION), True),
        ((IN_CARE, EXCEPTION), False),
        ((GRANT, IN_CARE, EXCEPTION, IN_CARE), False),
        ((GRANT, IN_CARE, NOT_IN_CARE), True),
        ((GRANT, IN_CARE, EXCEPTION, WITHDRAW), False),
    ],
    ids=lambda v: "-".join(type(e).__name__ for e in v) if isinstance(v, tuple) else str(v),
)
def test_media_consent_follows_the_consent_services_rule(
    events: tuple[Event, ...], may_appear: bool
) -> None:
    doc = folded(media_consent, *events).get("ada") if events else None
    assert bool(doc and doc["may_appear"]) is may_appear
