"""Given a roster and a text, when checked, then the pupils named in full (first names are fine)."""

from __future__ import annotations

import time

from schoolgate_messaging.names_in_text import full_names_in

ROSTER = [
    ("p1", "Ada", "Lovelace"),
    ("p2", "Mary-Jane", "O'Neill"),
    ("p3", "Sam", "Lloyd Webber"),
    ("p4", "Zoë", "Brontë"),
    ("p5", "Fred", "Smith-Jones"),
    ("p6", "removed", "removed"),
    ("p7", "Tom", ""),
]


def test_a_first_name_alone_is_fine() -> None:
    assert full_names_in("Ada and Sam played with Zoë and Mary-Jane", ROSTER) == []


def test_a_full_name_is_found_whatever_the_case_spacing_or_possessive() -> None:
    assert full_names_in("I saw ADA   lovelace's coat", ROSTER) == ["p1"]
    assert full_names_in("ada\nlovelace!", ROSTER) == ["p1"]


def test_surname_comma_first_name_is_a_full_name() -> None:
    assert full_names_in("Register: Lovelace, Ada - present", ROSTER) == ["p1"]
    assert full_names_in("Lovelace Ada", ROSTER) == []


def test_hyphenated_apostrophe_and_double_barrelled_names() -> None:
    assert full_names_in("Mary-Jane O\u2019Neill was kind", ROSTER) == ["p2"]
    assert full_names_in("mary jane oneill", ROSTER) == ["p2"]
    assert full_names_in("Sam Lloyd Webber sang", ROSTER) == ["p3"]
    assert full_names_in("Sam Lloyd sang", ROSTER) == []
    assert full_names_in("Fred Smith Jones and Fred Smith", ROSTER) == ["p5"]


def test_accents_are_ignored_both_ways() -> None:
    assert full_names_in("Zoe Bronte won", ROSTER) == ["p4"]
    assert full_names_in("Zoë Brontë won", [("p9", "Zoe", "Bronte")]) == ["p9"]


def test_a_name_inside_another_word_is_no_one() -> None:
    assert full_names_in("Ada Lovelaceful and xAda Lovelace", ROSTER) == []


def test_two_pupils_come_back_in_order_of_first_appearance_once_each() -> None:
    text = "Zoe Bronte helped Ada Lovelace, then Zoe Bronte again"
    assert full_names_in(text, ROSTER) == ["p4", "p1"]


def test_the_familys_own_child_is_left_out() -> None:
    text = "Ada Lovelace and Zoe Bronte"
    assert full_names_in(text, ROSTER, except_ids={"p1"}) == ["p4"]


def test_erased_pupils_and_missing_surnames_are_never_matched() -> None:
    assert full_names_in("removed removed, and Tom", ROSTER) == []


def test_a_school_of_a_thousand_and_a_long_text_is_quick() -> None:
    roster = [(f"p{i}", f"First{i % 50}", f"Surname{i}") for i in range(1_000)]
    text = ("First3 went to play with first7 and " * 140)[:4_980] + " First49 Surname999"
    started = time.perf_counter()
    assert full_names_in(text, roster) == ["p999"]
    assert time.perf_counter() - started < 0.2
