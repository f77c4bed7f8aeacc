"""Posts, likes, comments and settings: given past events, when a command, then new events
(or an error). No I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from schoolgate_contracts import Event
from schoolgate_contracts.stories import (
    Attachment,
    Audience,
    CommentAdded,
    PostDeleted,
    PostEdited,
    PostLiked,
    PostPublished,
    PostUnliked,
    StorySettingsChanged,
)
from schoolgate_kit.problems import NotFound
from schoolgate_stories.domain import (
    AddComment,
    BadAudience,
    CommentsOff,
    DeletePost,
    DuplicateMedia,
    EditPost,
    EmptyPost,
    Gate,
    NoMediaConsent,
    NotYourPost,
    Post,
    PostIdReused,
    PublishPost,
    SayWhoIsInIt,
    decide_comment,
    decide_delete,
    decide_edit,
    decide_like,
    decide_publish,
    decide_settings,
    evolve_like,
    evolve_post,
    evolve_settings,
    initial_post,
    like_stream,
    post_stream,
)

NOW = datetime(2026, 11, 18, 10, 30, tzinfo=UTC)
OAK = Audience(kind="classes", class_ids=("oak",))
PHOTO = Attachment(media_id="m1", kind="image", alt_text="Sports day", tagged_pupil_ids=("ada",))
PUBLISH = PublishPost(
    post_id="p1",
    author_id="teacher-1",
    audience=OAK,
    text="What a day!",
    attachments=(PHOTO,),
    visible_from=NOW,
)
CLEARED = Gate(cleared=frozenset({"ada", "sam"}))


def given(*events: Event) -> Post:
    state = initial_post()
    for event in events:
        state = evolve_post(state, event)
    return state


def published() -> list[Event]:
    return decide_publish(given(), PUBLISH, CLEARED)


EDIT = EditPost(
    post_id="p1",
    edited_by="teacher-1",
    text="What a day! Well done all.",
    attachments=(PHOTO,),
    visible_from=NOW,
)


def edit(**changes: Any) -> EditPost:
    return replace(EDIT, **changes)


def test_streams_are_named_by_one_function_each() -> None:
    assert post_stream("p1") == "post-p1"
    assert like_stream("p1", "parent-1") == "postlike-p1-parent-1"


def test_a_post_to_several_classes_is_one_event() -> None:
    to_two = replace(PUBLISH, audience=Audience(kind="classes", class_ids=("oak", "ash")))
    [event] = decide_publish(given(), to_two, CLEARED)
    assert isinstance(event, PostPublished)
    assert event.audience.class_ids == ("oak", "ash")
    assert (event.author_id, event.text, event.visible_from) == ("teacher-1", "What a day!", NOW)
    assert event.attachments == (PHOTO,)


def test_the_same_post_sent_again_changes_nothing() -> None:
    assert decide_publish(given(*published()), PUBLISH, CLEARED) == []


def test_a_post_id_reused_for_another_post_is_refused() -> None:
    other = replace(PUBLISH, text="Something else")
    with pytest.raises(PostIdReused):
        decide_publish(given(*published()), other, CLEARED)


def test_a_post_tagging_a_pupil_without_consent_is_refused_naming_them() -> None:
    photo = Attachment(media_id="m2", kind="image", tagged_pupil_ids=("ada", "sam", "kit"))
    command = replace(PUBLISH, attachments=(PHOTO, photo))
    gate = Gate(cleared=frozenset({"ada"}), names={"sam": "Sam K.", "kit": "Kit"})
    with pytest.raises(NoMediaConsent) as refused:
        decide_publish(given(), command, gate)
    assert "Sam K. and Kit" in refused.value.detail
    assert refused.value.status == 422 and refused.value.slug == "no-media-consent"
    assert refused.value.extra["pupils"] == [
        {"pupil_id": "sam", "name": "Sam K."},
        {"pupil_id": "kit", "name": "Kit"},
    ]


def test_a_photo_in_which_no_child_can_be_recognised_needs_no_consent() -> None:
    nobody = Attachment(media_id="m", kind="image", no_child_recognisable=True)
    command = replace(PUBLISH, attachments=(nobody,))
    assert len(decide_publish(given(), command, Gate())) == 1


def test_a_photo_or_video_saying_nothing_or_both_is_refused_a_pdf_says_nothing() -> None:
    unsaid = Attachment(media_id="v", kind="video")
    both = Attachment(media_id="b", kind="image", tagged_pupil_ids=("ada",))
    both = both.model_copy(update={"no_child_recognisable": True})
    letter = Attachment(media_id="d", kind="document")
    command = replace(PUBLISH, attachments=(PHOTO, unsaid, both, letter))
    with pytest.raises(SayWhoIsInIt) as refused:
        decide_publish(given(), command, CLEARED)
    assert refused.value.extra["media_ids"] == ["v", "b"]
    edit = replace(EDIT, attachments=(unsaid,))
    with pytest.raises(SayWhoIsInIt):
        decide_edit(given(*published()), edit, CLEARED)
    assert len(decide_publish(given(), replace(PUBLISH, attachments=(letter,)), Gate())) == 1


@pytest.mark.parametrize(
    "audience",
    [
        Audience(kind="classes"),
        Audience(kind="classes", class_ids=("oak",), year_group_id="y1"),
        Audience(kind="classes", class_ids=("oak", "oak")),
        Audience(kind="year_group"),
        Audience(kind="year_group", year_group_id="y1", class_ids=("oak",)),
        Audience(kind="school", year_group_id="y1"),
        Audience(kind="school", class_ids=("oak",)),
    ],
)
def test_an_audience_of_the_wrong_shape_is_refused(audience: Audience) -> None:
    with pytest.raises(BadAudience):
        decide_publish(given(), replace(PUBLISH, audience=audience), CLEARED)


def test_an_empty_post_or_the_same_media_twice_is_refused() -> None:
    with pytest.raises(EmptyPost):
        decide_publish(given(), replace(PUBLISH, text="  ", attachments=()), CLEARED)
    with pytest.raises(DuplicateMedia):
        decide_publish(given(), replace(PUBLISH, attachments=(PHOTO, PHOTO)), CLEARED)


def test_the_author_edits_and_families_see_the_new_version() -> None:
    [event] = decide_edit(given(*published()), edit(), CLEARED)
    assert isinstance(event, PostEdited) and event.text == "What a day! Well done all."
    state = given(*published(), event)
    assert state.text == "What a day! Well done all." and state.audience == OAK


def test_an_edit_that_changes_nothing_writes_nothing() -> None:
    assert decide_edit(given(*published()), edit(text="What a day!"), CLEARED) == []


def test_only_the_author_or_a_leader_edits_or_deletes() -> None:
    history = given(*published())
    with pytest.raises(NotYourPost):
        decide_edit(history, edit(edited_by="teacher-2"), CLEARED)
    assert decide_edit(history, edit(edited_by="leader-1", may_edit_others=True), CLEARED)
    with pytest.raises(NotYourPost):
        decide_delete(history, DeletePost(post_id="p1", deleted_by="teacher-2"))
    [deleted] = decide_delete(
        history, DeletePost(post_id="p1", deleted_by="leader-1", may_delete_others=True)
    )
    assert isinstance(deleted, PostDeleted)


def test_an_edit_is_held_to_consent_too() -> None:
    later = Attachment(media_id="m1", kind="image", tagged_pupil_ids=("ada", "kit"))
    with pytest.raises(NoMediaConsent):
        decide_edit(given(*published()), edit(attachments=(later,)), CLEARED)


def test_a_deleted_post_is_gone_and_deleting_again_changes_nothing() -> None:
    history = [*published(), PostDeleted(post_id="p1", deleted_by="teacher-1")]
    assert decide_delete(given(*history), DeletePost(post_id="p1", deleted_by="teacher-1")) == []
    with pytest.raises(NotFound):
        decide_edit(given(*history), edit(), CLEARED)
    with pytest.raises(NotFound):
        decide_delete(given(), DeletePost(post_id="p1", deleted_by="teacher-1"))


def test_a_scheduled_post_can_be_moved() -> None:
    [event] = decide_edit(
        given(*published()), edit(text="What a day!", visible_from=NOW + timedelta(days=1)), CLEARED
    )
    assert isinstance(event, PostEdited) and event.visible_from == NOW + timedelta(days=1)


def test_likes_count_once_and_unlike_once() -> None:
    [liked] = decide_like(False, post_id="p1", parent_id="parent-1", like=True)
    assert isinstance(liked, PostLiked)
    state = evolve_like(False, liked)
    assert decide_like(state, post_id="p1", parent_id="parent-1", like=True) == []
    [unliked] = decide_like(state, post_id="p1", parent_id="parent-1", like=False)
    assert isinstance(unliked, PostUnliked)
    assert (
        decide_like(evolve_like(state, unliked), post_id="p1", parent_id="parent-1", like=False)
        == []
    )


def test_comments_only_where_the_school_turned_them_on() -> None:
    command = AddComment(post_id="p1", comment_id="c1", author_id="parent-1", text="Lovely!")
    with pytest.raises(CommentsOff):
        decide_comment(given(*published()), command, comments_enabled=False)
    [event] = decide_comment(given(*published()), command, comments_enabled=True)
    assert isinstance(event, CommentAdded) and event.text == "Lovely!"
    assert decide_comment(given(*published(), event), command, comments_enabled=True) == []
    with pytest.raises(NotFound):
        decide_comment(given(), command, comments_enabled=True)


def test_settings_change_only_when_they_differ() -> None:
    assert decide_settings(False, False, changed_by="leader-1") == []
    [event] = decide_settings(False, True, changed_by="leader-1")
    assert isinstance(event, StorySettingsChanged)
    assert evolve_settings(False, event) is True
