"""Given what a person chose, when a notification is due, then which channels and how soon;
and what nobody may turn off stays on."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from schoolgate_notifications.preferences import (
    DEFAULTS,
    Audience,
    Channel,
    ChoicesChange,
    Kind,
    LockedChoice,
    Timing,
    apply,
    as_json,
    effective,
    unsubscribe,
)

INSTANT, DIGEST, OFF = Timing.instant, Timing.digest, Timing.off
LOCKED_KINDS = (Kind.account, Kind.safety, Kind.emergency)


# Defaults


def test_every_kind_has_a_default_on_every_channel_for_everyone() -> None:
    for audience in Audience:
        assert set(DEFAULTS[audience]) == set(Kind)
        for row in DEFAULTS[audience].values():
            assert set(row) == set(Channel)


def test_a_parent_by_default_hears_at_once_about_their_child_and_what_is_written_to_them() -> None:
    parent = effective(None, Audience.parent)
    assert parent[Kind.points][Channel.push] is INSTANT
    assert parent[Kind.messages][Channel.push] is INSTANT
    assert parent[Kind.messages][Channel.email] is INSTANT  # parents without the app
    assert parent[Kind.points][Channel.email] is OFF  # several a day: never an email each
    assert parent[Kind.school_stories][Channel.push] is DIGEST
    assert parent[Kind.class_stories][Channel.email] is DIGEST


def test_staff_by_default_get_families_messages_but_not_points_they_award() -> None:
    staff = effective(None, Audience.staff)
    assert staff[Kind.messages][Channel.push] is INSTANT
    assert staff[Kind.points][Channel.push] is OFF
    assert staff[Kind.messages][Channel.email] is OFF


@pytest.mark.parametrize("audience", list(Audience))
def test_the_notification_centre_always_has_everything_at_once(audience: Audience) -> None:
    matrix = effective({"points": {"in_app": "off", "push": "off"}}, audience)
    assert all(row[Channel.in_app] is INSTANT for row in matrix.values())


# Changing choices


def test_a_change_is_laid_over_the_defaults_cell_by_cell() -> None:
    stored = apply(None, ChoicesChange.model_validate({"choices": {"points": {"push": "off"}}}))
    stored = apply(
        as_json(stored),
        ChoicesChange.model_validate({"choices": {"class_stories": {"push": "digest"}}}),
    )
    stored = apply(
        as_json(stored),
        ChoicesChange.model_validate({"choices": {"points": {"email": "digest"}}}),
    )
    matrix = effective(as_json(stored), Audience.parent)
    assert matrix[Kind.points][Channel.push] is OFF  # kept when email changed after
    assert matrix[Kind.points][Channel.email] is DIGEST
    assert matrix[Kind.class_stories][Channel.push] is DIGEST
    assert matrix[Kind.class_stories][Channel.email] is DIGEST  # untouched default
    assert as_json(stored) == {
        "points": {"push": "off", "email": "digest"},
        "class_stories": {"push": "digest"},
    }


@pytest.mark.parametrize(
    "body",
    [
        {"choices": {"homework": {"push": "off"}}},
        {"choices": {"points": {"sms": "off"}}},
        {"choices": {"points": {"push": "weekly"}}},
        {"choices": {}, "also": 1},
    ],
    ids=["unknown kind", "unknown channel", "unknown timing", "unknown field"],
)
def test_what_is_not_a_choice_is_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ChoicesChange.model_validate(body)


@pytest.mark.parametrize("kind", LOCKED_KINDS)
@pytest.mark.parametrize("channel", [Channel.push, Channel.email])
@pytest.mark.parametrize("timing", [OFF, DIGEST])
def test_account_safety_and_emergency_cannot_be_turned_off_or_delayed(
    kind: Kind, channel: Channel, timing: Timing
) -> None:
    with pytest.raises(ValidationError) as refused:
        ChoicesChange.model_validate({"choices": {kind: {channel: timing}}})
    [error] = refused.value.errors()
    assert error["loc"] == ("choices",)
    assert "can't be" in error["msg"]  # the reason the page shows, not a type error


def test_the_notification_centre_cannot_be_turned_off() -> None:
    with pytest.raises(ValidationError, match="always on"):
        ChoicesChange.model_validate({"choices": {"points": {"in_app": "off"}}})


def test_a_page_may_send_back_the_locked_cells_as_shown() -> None:
    change = ChoicesChange.model_validate(
        {"choices": {"account": {"push": "instant", "email": "instant", "in_app": "instant"}}}
    )
    assert apply(None, change) == {}  # nothing worth storing


def test_locked_cells_stored_by_some_older_version_are_ignored() -> None:
    stored = {"emergency": {"push": "off"}, "safety": {"email": "digest"}, "gone": {"x": "y"}}
    matrix = effective(stored, Audience.parent)
    for kind in LOCKED_KINDS:
        assert set(matrix[kind].values()) == {INSTANT}


# One-click unsubscribe (RFC 8058)


def test_unsubscribing_from_one_kind_of_email_turns_off_only_that() -> None:
    stored = {"points": {"push": "off"}}
    after = effective(as_json(unsubscribe(stored, Kind.class_stories)), Audience.parent)
    assert after[Kind.class_stories][Channel.email] is OFF
    assert after[Kind.class_stories][Channel.push] is INSTANT
    assert after[Kind.points][Channel.push] is OFF
    assert after[Kind.messages][Channel.email] is INSTANT


@pytest.mark.parametrize("kind", LOCKED_KINDS)
def test_unsubscribing_from_a_locked_kind_is_refused(kind: Kind) -> None:
    with pytest.raises(LockedChoice) as refused:
        unsubscribe(None, kind)
    assert (refused.value.kind, refused.value.channel) == (kind, Channel.email)


def test_a_people_key_says_whose_defaults_apply() -> None:
    assert Audience.of("parent:0b0c") is Audience.parent
    assert Audience.of("staff:77") is Audience.staff
    with pytest.raises(ValueError, match="people key"):
        Audience.of("pupil:1")
