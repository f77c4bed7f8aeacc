from __future__ import annotations

from schoolgate_kit.names import PupilName, display_names


def names(*pupils: tuple[str, str]) -> list[str]:
    shown = display_names(PupilName(str(i), first, last) for i, (first, last) in enumerate(pupils))
    return [shown[str(i)] for i in range(len(pupils))]


def test_first_names_only_when_they_differ() -> None:
    assert names(("Ada", "Lovelace"), ("Ben", "Okri")) == ["Ada", "Ben"]


def test_a_shared_first_name_adds_the_surname_initial() -> None:
    assert names(("Sam", "Kay"), ("Sam", "Lee"), ("Ada", "Lovelace")) == ["Sam K.", "Sam L.", "Ada"]


def test_first_names_are_compared_ignoring_case_and_spaces() -> None:
    assert names(("sam", "Kay"), (" Sam ", "Lee")) == ["sam K.", "Sam L."]


def test_same_initials_show_just_enough_of_the_surname() -> None:
    assert names(("Sam", "Kay"), ("Sam", "Khan")) == ["Sam Ka.", "Sam Kh."]


def test_identical_full_names_keep_the_initial() -> None:
    assert names(("Sam", "Kay"), ("Sam", "Kay")) == ["Sam K.", "Sam K."]


def test_no_surname_shows_the_first_name() -> None:
    assert names(("Sam", ""), ("Sam", "Kay")) == ["Sam", "Sam K."]
