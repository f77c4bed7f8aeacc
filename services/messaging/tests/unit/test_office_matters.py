"""Given a parent's message, when checked, then the office matter it looks like (or none).

The labelled set in tests/data was written before the rules, to measure them, not to fit them.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest
from schoolgate_messaging.office_matters import (
    MATTERS,
    MAX_EXTRA_WORDS_PER_MATTER,
    Detected,
    Matter,
    detect,
)

EXAMPLES = Path(__file__).parent.parent / "data" / "office_examples.jsonl"


def labelled() -> list[tuple[str, Matter | None]]:
    lines = EXAMPLES.read_text(encoding="utf-8").splitlines()
    return [(row["text"], row["label"]) for row in map(json.loads, lines) if row]


def ratio(hits: int, total: int) -> float:
    return hits / total if total else 1.0


def test_the_labelled_set_is_big_and_balanced_enough_to_mean_something() -> None:
    counts = Counter(label for _, label in labelled())
    assert sum(counts.values()) >= 200
    assert all(counts[matter] >= 15 for matter in MATTERS), counts
    assert counts[None] >= 0.4 * sum(counts.values()), counts


def test_the_rules_are_right_on_the_labelled_set() -> None:
    examples = labelled()
    guessed = [
        (found.matter if (found := detect(text)) else None, label) for text, label in examples
    ]
    lines = [f"{len(examples)} labelled messages"]
    for matter in MATTERS:
        tp = sum(1 for g, label in guessed if g == matter and label == matter)
        said = sum(1 for g, _ in guessed if g == matter)
        real = sum(1 for _, label in guessed if label == matter)
        lines.append(
            f"{matter:>13}: precision {ratio(tp, said):.3f} recall {ratio(tp, real):.3f} (n={real})"
        )
    office_tp = sum(1 for g, label in guessed if g and label)
    precision = ratio(office_tp, sum(1 for g, _ in guessed if g))
    recall = ratio(office_tp, sum(1 for _, label in guessed if label))
    accuracy = ratio(sum(1 for g, label in guessed if g == label), len(guessed))
    lines.append(f"office vs teacher: precision {precision:.3f} recall {recall:.3f}")
    lines.append(f"exact matter (or none) accuracy {accuracy:.3f}")
    wrong = [
        f"  {label} -> {g}: {text}"
        for (text, label), (g, _) in zip(examples, guessed, strict=True)
        if g != label
    ]
    report = "\n".join([*lines, "wrong:", *wrong])
    print(report)
    # Reached on all 440: 0.996, 0.996 and 0.991, after tuning. Batches written after each round
    # of tuning scored lower on first sight (recall 0.64, then 0.86): see the data's commits.
    # The policy's floor is 0.95/0.95/0.9; this holds what was reached, so a rule change that
    # loses ground shows up.
    assert precision >= 0.99, report
    assert recall >= 0.99, report
    assert accuracy >= 0.99, report


@pytest.mark.parametrize(
    ("text", "matter"),
    [
        ("Ada loved her music lesson today", None),
        ("he was sick of spelling", None),
        ("can we have a quick chat about his reading?", None),
        ("Bob had a rough night's sleep", None),
        ("Fred's rabbit died", None),
        ("URGENT please read the newsletter", None),
        ("dentist appt at 2, nan's picking her up at 1.30", "appointment"),
        ("Off sick, d&v", "sickness"),
        ("not happy with the pick-up arrangements", "complaint"),
    ],
)
def test_classroom_chatter_stays_with_the_teacher_and_office_words_win_by_precedence(
    text: str, matter: Matter | None
) -> None:
    found = detect(text)
    assert (found.matter if found else None) == matter


def test_the_page_is_told_which_words_matched() -> None:
    assert detect("Jack has a Dr\u2019s appt at 10") == Detected("appointment", ("drs", "appt"))


def test_a_leaders_word_is_matched_whole_case_and_accent_insensitively() -> None:
    words: dict[Matter, list[str]] = {"music_lessons": ["Tutù"]}
    assert detect("Can she bring her TUTU on Friday?", extra_words=words) == Detected(
        "music_lessons", ("tutu",)
    )
    assert detect("she's a tutumaniac", extra_words=words) is None
    assert detect("Can she bring her tutu on Friday?") is None


def test_a_leaders_phrase_matches_across_spaces_and_punctuation() -> None:
    words: dict[Matter, list[str]] = {"dinners": ["forest school snack"]}
    found = detect("is the forest  school-snack paid?", extra_words=words)
    assert found == Detected("dinners", ("forest school snack",))


@pytest.mark.parametrize("word", ["a.b", "(", "x+", ".*", "[", "\\", "a|b", "", "   ", "?"])
def test_a_leaders_metacharacters_are_plain_text(word: str) -> None:
    words: dict[Matter, list[str]] = {"complaint": [word]}
    assert detect("a lovely day, axb, nothing else", extra_words=words) is None


def test_a_leaders_metacharacter_word_matches_itself_literally() -> None:
    words: dict[Matter, list[str]] = {"complaint": ["a.b"]}
    assert detect("re a.b", extra_words=words) == Detected("complaint", ("a.b",))


def test_a_leaders_overlong_or_surplus_words_are_ignored() -> None:
    long_word = "x" * 41
    assert detect(long_word, extra_words={"dinners": [long_word]}) is None
    surplus = [f"w{i}" for i in range(MAX_EXTRA_WORDS_PER_MATTER)] + ["last"]
    assert detect("last", extra_words={"dinners": surplus}) is None
    assert detect("w49", extra_words={"dinners": surplus}) == Detected("dinners", ("w49",))


def test_an_unknown_language_uses_the_english_rules() -> None:
    assert detect("off sick today", language="xx") == Detected("sickness", ("off sick",))


def test_only_the_start_of_a_long_text_is_read_and_it_stays_fast() -> None:
    tail = "off sick"
    text = "blah " * 1_000 + tail
    assert detect(text) is None
    hostile = ("pick " + "a " * 4_000 + "up ") + "! " * 500
    started = time.perf_counter()
    detect(hostile * 3, extra_words={"collection": ["a " * 19 + "b"]})
    assert time.perf_counter() - started < 0.5
