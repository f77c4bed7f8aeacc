"""Which pupils' full names does a text spell out? Pure, no I/O.

The school's policy is first names only, in words as in pictures: a message or story that names
another pupil in full is flagged to its writer before it is sent. A first name alone is fine.

A full name is first name then surname ("Ada Lovelace", "Ada Lovelace's") or surname, comma,
first name ("Lovelace, Ada"). Matching ignores case, accents, apostrophes and the difference
between a hyphen and a space ("Zoe Bronte" is "Zoë Brontë", "Mary Jane ONeill" is
"Mary-Jane O'Neill"), and only whole words count ("Ada Lovelaceful" is no one).

Cost: the text is read into words once; the roster is indexed by each name's first word, so
each word of the text is compared only with the few names that start with it. A 5,000-character
text against a school of 1,000 pupils is a few thousand dictionary look-ups. The whole text is
read, however long: this guards privacy, and the cost is linear, so nothing is left unread.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable

_APOSTROPHES = re.compile(r"['\u2019\u2018`\u02bc]")
# "Lovelace's" is Lovelace: a possessive s goes before the apostrophes do.
_POSSESSIVE = re.compile(r"['\u2019\u02bc]s(?!\w)")
_TOKEN = re.compile(r"\w+|,")
_ERASED = "removed"


def _words(text: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    bare = _APOSTROPHES.sub("", _POSSESSIVE.sub("", bare))
    # "_" is a word character to the regex but never part of a name.
    return _TOKEN.findall(bare.replace("_", " "))


def _names(
    pupils: Iterable[tuple[str, str, str]], except_ids: Collection[str]
) -> dict[str, list[tuple[tuple[str, ...], str]]]:
    """The roster's full names as word sequences, filed under their first word."""
    by_first_word: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    skip = set(except_ids)
    for pupil_id, first_name, surname in pupils:
        if pupil_id in skip:
            continue
        first = tuple(w for w in _words(first_name) if w != ",")
        last = tuple(w for w in _words(surname) if w != ",")
        if not first or not last or _ERASED in (" ".join(first), " ".join(last)):
            continue
        for sequence in (first + last, (*last, ",", *first)):
            by_first_word.setdefault(sequence[0], []).append((sequence, pupil_id))
    return by_first_word


def full_names_in(
    text: str,
    pupils: Iterable[tuple[str, str, str]],
    *,
    except_ids: Collection[str] = (),
) -> list[str]:
    """Ids of the pupils (pupil_id, first_name, surname) named in full in `text`, in order of
    first appearance, leaving out `except_ids` (the family's own child, the conversation's
    pupil), erased pupils (named "removed") and pupils without a surname."""
    names = _names(pupils, except_ids)
    words = _words(text)
    found: list[str] = []
    for i, word in enumerate(words):
        for sequence, pupil_id in names.get(word, ()):
            if pupil_id not in found and tuple(words[i : i + len(sequence)]) == sequence:
                found.append(pupil_id)
    return found
