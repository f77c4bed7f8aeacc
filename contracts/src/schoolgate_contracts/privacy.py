"""Which fields of an event are personal data, and whose.

Every string an event carries is marked, in its type, as one or the other:

- ``NotPersonal``: an id (random, meaningless outside Schoolgate), or words the school
  wrote for everyone (a class's name, a value, a code of conduct).
- ``Personal(subject)``: words about a person or written by one. ``subject`` names the
  field holding whose it is: a person (pupil, parent, member of staff), or a record (a
  story) that is erased on its own when its time is up. The store writes it encrypted
  under that subject's key, and it reads as ``removed`` once that key is destroyed.

A string inside a nested model (a photo's description) may be marked ``Personal()``
without a subject: it is then whose the enclosing field says (``SubjectOf``).

``sealing_plan`` reads these marks once per event type. ``unmarked_strings`` lists the
strings that are neither, and a test fails on any: a new field must say which it is.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel

REMOVED = "removed"
"""What a personal text reads as once its subject was erased."""

PERSON = "person"
"""The kind of subject a pupil, a parent or a member of staff is: erased with the person."""


@dataclass(frozen=True, slots=True)
class NotPersonal:
    why: str


@dataclass(frozen=True, slots=True)
class Personal:
    subject: str | None = None
    """The field of the event holding the subject's id; None: the enclosing ``SubjectOf``."""
    kind: str = PERSON
    """``person``, or the kind of record (``post``) with a key of its own."""
    removed: Any = REMOVED
    """What the field reads as once its subject's key is gone."""
    stable: bool = False
    """Sealed deterministically: one value under one key always gives the same box, so a
    reader that opened it once opens it again by a lookup. For values repeated across many
    events under few keys (a pupil's id in a week's awards); it shows which of those events
    hold the same value, never what the value is."""


@dataclass(frozen=True, slots=True)
class SubjectOf:
    """On a field holding nested models: whose their ``Personal()`` fields are."""

    subject: str
    kind: str = PERSON


Id = Annotated[str, NotPersonal("an id")]
SchoolText = Annotated[str, NotPersonal("written by the school for everyone to read")]


@dataclass(frozen=True, slots=True)
class Sealed:
    """One personal value of an event type: where it is and whose it is."""

    path: tuple[str, ...]
    """Field names from the event down; ``*`` steps into each item of a tuple."""
    subject: str
    kind: str
    removed: Any
    stable: bool = False


@cache
def sealing_plan(cls: type[BaseModel]) -> tuple[Sealed, ...]:
    """Every personal value of this model, by path."""
    return tuple(_personal(cls, (), None))


@cache
def opens_as_text(cls: type[BaseModel]) -> bool:
    """Whether every personal value of this type is stable and a field of its own, in a type
    with no nested models: its stored text can then be opened in place (each field name
    appears once in it) and validated as text, the fast way."""
    plan = sealing_plan(cls)
    flat = not any(next(_models(f.annotation), None) for f in cls.model_fields.values())
    return bool(plan) and flat and all(s.stable and len(s.path) == 1 for s in plan)


def personal_field_names(cls: type[BaseModel]) -> frozenset[str]:
    return frozenset(sealed.path[0] for sealed in sealing_plan(cls))


def unmarked_strings(cls: type[BaseModel]) -> list[str]:
    """The paths of string fields marked neither personal nor not personal."""
    return list(_unmarked(cls, ()))


def _personal(
    cls: type[BaseModel], path: tuple[str, ...], inherited: SubjectOf | None
) -> Iterator[Sealed]:
    for name, field in cls.model_fields.items():
        here = (*path, name)
        marks = field.metadata
        personal = next((m for m in marks if isinstance(m, Personal)), None)
        if personal is not None:
            if personal.subject is not None:
                yield Sealed(
                    here, personal.subject, personal.kind, personal.removed, personal.stable
                )
            elif inherited is not None:
                yield Sealed(
                    here, inherited.subject, inherited.kind, personal.removed, personal.stable
                )
            else:
                raise TypeError(f"{cls.__name__}.{name}: Personal() without a subject")
            continue
        subject = next((m for m in marks if isinstance(m, SubjectOf)), inherited)
        for nested, steps in _models(field.annotation):
            yield from _personal(nested, (*here, *steps), subject)


def _unmarked(cls: type[BaseModel], path: tuple[str, ...]) -> Iterator[str]:
    for name, field in cls.model_fields.items():
        here = (*path, name)
        if any(isinstance(m, Personal | NotPersonal) for m in field.metadata):
            continue
        if _holds_string(field.annotation):
            yield ".".join(here)
        for nested, steps in _models(field.annotation):
            yield from _unmarked(nested, (*here, *steps))


def _args(annotation: Any) -> tuple[Any, ...]:
    return typing.get_args(annotation)


def _holds_string(annotation: Any) -> bool:
    if annotation is str:
        return True
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        args = _args(annotation)
        if any(isinstance(m, Personal | NotPersonal) for m in args[1:]):
            return False
        return _holds_string(args[0])
    if origin is Literal or (isinstance(annotation, type) and issubclass(annotation, Enum)):
        return False  # a closed set of words the code chose
    if origin in (typing.Union, types.UnionType, tuple, list, frozenset, set):
        return any(_holds_string(arg) for arg in _args(annotation) if arg is not Ellipsis)
    return False


def _models(annotation: Any) -> Iterator[tuple[type[BaseModel], tuple[str, ...]]]:
    """The models a field holds, each with the steps from the field down to it."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation, ()
        return
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        yield from _models(_args(annotation)[0])
    elif origin in (typing.Union, types.UnionType):
        for arg in _args(annotation):
            yield from _models(arg)
    elif origin in (tuple, list, frozenset, set):
        for arg in _args(annotation):
            if arg is not Ellipsis:
                for model, steps in _models(arg):
                    yield model, ("*", *steps)
