"""Every string an event carries says whether it is personal data, and whose."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BaseModel, ConfigDict
from schoolgate_contracts import registry
from schoolgate_contracts.base import Event
from schoolgate_contracts.privacy import (
    Id,
    Personal,
    SubjectOf,
    sealing_plan,
    unmarked_strings,
)


@pytest.mark.parametrize("event_type", sorted(registry.types()))
def test_every_string_of_every_event_is_marked_personal_or_not(event_type: str) -> None:
    cls = registry.types()[event_type]
    assert unmarked_strings(cls) == [], (
        f"{event_type} has strings marked neither Personal(...) nor NotPersonal(...):"
        " say which each is (schoolgate_contracts.privacy)"
    )


@pytest.mark.parametrize("event_type", sorted(registry.types()))
def test_every_personal_value_names_a_subject_field_the_event_has(event_type: str) -> None:
    cls = registry.types()[event_type]
    for sealed in sealing_plan(cls):
        assert sealed.subject in cls.model_fields, (event_type, sealed)


class _Photo(BaseModel):
    model_config = ConfigDict(frozen=True)
    caption: Annotated[str, Personal()] = ""
    file_name: str = ""


class _Unmarked(Event):
    event_type = "_Unmarked"
    service = "test"
    pupil_id: Id
    nickname: str
    maybe: str | None = None
    photos: Annotated[tuple[_Photo, ...], SubjectOf("pupil_id")] = ()


def test_a_new_string_field_marked_neither_way_is_found_even_nested_or_optional() -> None:
    assert unmarked_strings(_Unmarked) == ["nickname", "maybe", "photos.*.file_name"]


def test_a_nested_personal_value_is_whose_its_enclosing_field_says() -> None:
    [caption] = sealing_plan(_Unmarked)
    assert caption.path == ("photos", "*", "caption")
    assert (caption.kind, caption.subject) == ("person", "pupil_id")


def test_the_kinds_of_personal_data_we_promised_to_protect_are_all_marked() -> None:
    def paths(event_type: str) -> set[str]:
        return {".".join(s.path) for s in sealing_plan(registry.types()[event_type])}

    assert {"first_name", "surname", "source_id"} <= paths("PupilEnrolled")
    assert {"display_name", "email"} <= paths("StaffMemberAdded")
    assert {"text", "attachments.*.alt_text"} <= paths("PostPublished")
    assert {"text"} <= paths("CommentAdded")
    assert {"text"} <= paths("PortfolioItemSubmitted")
    assert {"note"} <= paths("PortfolioItemSentBack")
    assert {"in_care"} <= paths("PupilCareStatusRecorded")
    assert {"reason"} <= paths("ParentSuspended")
