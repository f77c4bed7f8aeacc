"""Portfolio items and home learning: given past events, when a command, then new events
(or an error). No I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from schoolgate_contracts import Event
from schoolgate_contracts.stories import (
    Attachment,
    HomeLearningTaskSet,
    PortfolioItemApproved,
    PortfolioItemSentBack,
    PortfolioItemSubmitted,
)
from schoolgate_kit.problems import NotFound
from schoolgate_stories.domain import (
    BlankTitle,
    DueInThePast,
    EmptyItem,
    Gate,
    Item,
    ItemApproved,
    ItemIdReused,
    NoMediaConsent,
    NothingToReview,
    SetTask,
    SubmitItem,
    TaskIdReused,
    decide_approve,
    decide_send_back,
    decide_submit,
    decide_task,
    evolve_item,
    evolve_task,
    initial_item,
    portfolio_stream,
    task_stream,
)

DRAWING = Attachment(media_id="m1", kind="image", alt_text="My rocket")
SUBMIT = SubmitItem(
    item_id="i1", pupil_id="ada", class_id="oak", text="My rocket", attachments=(DRAWING,)
)
TODAY = date(2026, 11, 18)
TASK = SetTask(
    task_id="t1",
    class_id="oak",
    title="Spellings",
    instructions="Learn the ten words",
    due_on=date(2026, 11, 25),
    set_by="teacher-1",
)


def given(*events: Event) -> Item:
    state = initial_item()
    for event in events:
        state = evolve_item(state, event)
    return state


def submitted() -> list[Event]:
    return decide_submit(given(), SUBMIT, Gate())


def test_streams_are_named_by_one_function_each() -> None:
    assert portfolio_stream("i1") == "portfolio-i1"
    assert task_stream("t1") == "homelearning-t1"


def test_a_pupil_submits_work_that_waits_for_review() -> None:
    [event] = submitted()
    assert isinstance(event, PortfolioItemSubmitted)
    assert (event.pupil_id, event.class_id, event.attachments) == ("ada", "oak", (DRAWING,))
    assert given(event).status == "submitted"


def test_the_same_work_sent_again_changes_nothing() -> None:
    assert decide_submit(given(*submitted()), SUBMIT, Gate()) == []


def test_another_pupil_cannot_take_over_an_item() -> None:
    with pytest.raises(ItemIdReused):
        decide_submit(given(*submitted()), replace(SUBMIT, pupil_id="sam"), Gate())


def test_empty_work_is_refused() -> None:
    with pytest.raises(EmptyItem):
        decide_submit(given(), replace(SUBMIT, text=" ", attachments=()), Gate())


def test_tagging_a_classmate_without_consent_is_refused() -> None:
    tagged = Attachment(media_id="m1", kind="image", tagged_pupil_ids=("sam",))
    with pytest.raises(NoMediaConsent, match="Sam"):
        decide_submit(given(), replace(SUBMIT, attachments=(tagged,)), Gate(names={"sam": "Sam"}))


def test_approving_shares_the_work_once() -> None:
    history = submitted()
    [event] = decide_approve(given(*history), item_id="i1", approved_by="teacher-1")
    assert isinstance(event, PortfolioItemApproved)
    assert (event.pupil_id, event.class_id) == ("ada", "oak")
    assert decide_approve(given(*history, event), item_id="i1", approved_by="teacher-1") == []
    with pytest.raises(ItemApproved):
        decide_submit(given(*history, event), replace(SUBMIT, text="changed"), Gate())
    assert decide_submit(given(*history, event), SUBMIT, Gate()) == []


def test_sent_back_work_is_handed_in_again_on_the_same_item() -> None:
    history = submitted()
    [back] = decide_send_back(
        given(*history), item_id="i1", note="Add a title", sent_back_by="teacher-1"
    )
    assert isinstance(back, PortfolioItemSentBack) and back.note == "Add a title"
    state = given(*history, back)
    assert (state.status, state.note) == ("sent_back", "Add a title")
    with pytest.raises(NothingToReview):
        decide_approve(state, item_id="i1", approved_by="teacher-1")
    assert decide_send_back(state, item_id="i1", note="Add a title", sent_back_by="t") == []
    [again] = decide_submit(state, SUBMIT, Gate())
    assert isinstance(again, PortfolioItemSubmitted) and again.item_id == "i1"
    assert given(*history, back, again).status == "submitted"
    assert given(*history, back, again).note is None


def test_reviewing_nothing_is_not_found() -> None:
    with pytest.raises(NotFound):
        decide_approve(given(), item_id="i1", approved_by="teacher-1")
    with pytest.raises(NotFound):
        decide_send_back(given(), item_id="i1", note="x", sent_back_by="teacher-1")


def test_approved_work_cannot_be_sent_back() -> None:
    history = submitted()
    [approved] = decide_approve(given(*history), item_id="i1", approved_by="teacher-1")
    with pytest.raises(ItemApproved):
        decide_send_back(given(*history, approved), item_id="i1", note="x", sent_back_by="t")


def test_home_learning_is_set_once_and_may_be_changed() -> None:
    [event] = decide_task(None, TASK, TODAY)
    assert isinstance(event, HomeLearningTaskSet) and event.title == "Spellings"
    state = evolve_task(None, event)
    assert decide_task(state, TASK, TODAY) == []
    [changed] = decide_task(state, replace(TASK, title="Spellings (week 2)"), TODAY)
    assert isinstance(changed, HomeLearningTaskSet) and changed.title == "Spellings (week 2)"
    with pytest.raises(TaskIdReused):
        decide_task(state, replace(TASK, class_id="ash"), TODAY)


def test_home_learning_due_in_the_past_or_without_a_title_is_refused() -> None:
    with pytest.raises(DueInThePast):
        decide_task(None, replace(TASK, due_on=date(2026, 11, 17)), TODAY)
    assert decide_task(None, replace(TASK, due_on=TODAY), TODAY)
    with pytest.raises(BlankTitle):
        decide_task(None, replace(TASK, title="   "), TODAY)
