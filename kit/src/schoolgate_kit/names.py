"""How a child's name is shown wherever parents or pupils look. One function, used by every
read model: first name only, unless two children in the class share it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class PupilName:
    pupil_id: str
    first_name: str
    surname: str


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def display_names(classmates: Iterable[PupilName]) -> dict[str, str]:
    """Names for one class: "Ada"; "Sam K." and "Sam L." where two share a first name.

    Where the initial does not tell them apart either ("Sam Kay", "Sam Khan"), just enough
    of the surname is shown to ("Sam Ka.", "Sam Kh."); identical full names keep the initial.
    """
    pupils = list(classmates)
    by_first: dict[str, list[PupilName]] = defaultdict(list)
    for pupil in pupils:
        by_first[_fold(pupil.first_name)].append(pupil)
    shown: dict[str, str] = {}
    for group in by_first.values():
        if len(group) == 1:
            only = group[0]
            shown[only.pupil_id] = only.first_name.strip()
            continue
        for pupil in group:
            first, surname = pupil.first_name.strip(), pupil.surname.strip()
            if not surname:
                shown[pupil.pupil_id] = first
                continue
            folded = _fold(surname)
            # identical surnames cannot be told apart by more letters: they keep the initial
            others = [o for o in (_fold(g.surname) for g in group if g is not pupil) if o != folded]
            length = 1
            while length < len(surname) and any(o.startswith(folded[:length]) for o in others):
                length += 1
            shown[pupil.pupil_id] = f"{first} {surname[:length]}."
    return shown
