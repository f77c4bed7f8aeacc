"""Every word a notification says, in one place, so they can move into message catalogues
(one per language) without hunting through the timing rules.

Plain English for parents: who did what, about whom, never how the system works. The items
already carry display names (first names, by the display-name rule, and only of the
recipient's own children): nothing here looks a name up or adds one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from schoolgate_notifications.preferences import Kind

if TYPE_CHECKING:
    from schoolgate_notifications.timing import Item

WORDS: Mapping[str, str] = MappingProxyType(
    {
        "your_child": "Your child",
        "the_school": "the school",
        # one item, as a push: title, and a body when the item has a subject
        "points.title": "{pupil} got a point",
        "points.body": "For {subject}",
        "class_stories.title": "{sender} posted a class story",
        "school_stories.title": "{sender} posted a story for the school",
        "messages.title": "New message from {sender}",
        "approved_work.title": "New work in {pupil}'s portfolio",
        "announcements.title": "Announcement from {sender}",
        "account.title": "About your account",
        "safety.title": "Important notice from {sender}",
        "emergency.title": "Urgent message from {sender}",
        # several items of one kind (and one child), collapsed into one push
        "points.many": "{pupil} got {count} points",
        "class_stories.many": "{count} new class stories",
        "school_stories.many": "{count} new stories for the school",
        "messages.many": "{count} new messages",
        "approved_work.many": "{count} new pieces of work in {pupil}'s portfolio",
        "announcements.many": "{count} new announcements",
        "account.many": "{count} notices about your account",
        "safety.many": "{count} important notices",
        "emergency.many": "{count} urgent messages from school",
        # several kinds at once
        "collapsed.title": "{count} new notifications",
        "away.title": "While you were away",
        "digest.title": "Your round-up from school",
        "digest.empty": "Nothing new today.",
        # digest sections: a heading, then one line per item
        "points.heading": "Points",
        "points.line": "{pupil} got {count} points ({subjects})",
        "points.line.one": "{pupil} got a point ({subjects})",
        "points.line.bare": "{pupil} got {count} points",
        "points.line.bare.one": "{pupil} got a point",
        "class_stories.heading": "Class stories",
        "school_stories.heading": "School stories",
        "messages.heading": "Messages",
        "approved_work.heading": "Work in the portfolio",
        "announcements.heading": "Announcements",
        "account.heading": "Your account",
        "safety.heading": "Safety",
        "emergency.heading": "Urgent",
        "line.with_subject": "{who}: {subject}",
    }
)

NOUNS: Mapping[Kind, tuple[str, str]] = MappingProxyType(
    {
        # class and school stories count together: to a parent they are both "stories"
        Kind.emergency: ("urgent message", "urgent messages"),
        Kind.safety: ("safety notice", "safety notices"),
        Kind.account: ("account notice", "account notices"),
        Kind.messages: ("message", "messages"),
        Kind.announcements: ("announcement", "announcements"),
        Kind.class_stories: ("story", "stories"),
        Kind.school_stories: ("story", "stories"),
        Kind.approved_work: ("piece of work", "pieces of work"),
        Kind.points: ("point", "points"),
    }
)
"""Singular and plural, in the order a count lists them: what most needs a reply first."""

ORDER: Sequence[Kind] = tuple(NOUNS)


@dataclass(frozen=True)
class Text:
    title: str
    body: str = ""


def one(item: Item) -> Text:
    """The push (or email subject) for one item on its own."""
    title = _sentence(WORDS[f"{item.kind}.title"].format(pupil=_pupil(item), sender=_sender(item)))
    if item.kind is Kind.points:
        body = WORDS["points.body"].format(subject=item.subject) if item.subject else ""
    else:
        body = item.subject or ""
    return Text(title, body)


def group(items: Sequence[Item], count: int | None = None) -> Text:
    """Several items of one kind about one child (or none) as one push: "Ada got 3 points".
    ``count`` is how many it stands for when that is more than ``items``: the push replaces
    one already shown for the same child and kind, so it tells the total."""
    first, total = items[0], max(count or 0, len(items))
    if total == 1:
        return one(first)
    title = WORDS[f"{first.kind}.many"].format(count=total, pupil=_pupil(first))
    subjects = _subjects(items) if first.kind is Kind.points else ""
    return Text(title, WORDS["points.body"].format(subject=subjects) if subjects else "")


def collapsed(items: Sequence[Item]) -> Text:
    """Items of different kinds (or children) as one push: "4 new notifications"."""
    return Text(WORDS["collapsed.title"].format(count=len(items)), counts(items))


def away(items: Sequence[Item]) -> Text:
    """A member of staff's held items at the start of hours: one summary."""
    return Text(WORDS["away.title"], counts(items))


def counts(items: Iterable[Item]) -> str:
    """ "3 messages, 2 stories": how many of each, most pressing first."""
    tally = Counter(NOUNS[item.kind][1] for item in items)
    said = []
    for kind in ORDER:
        singular, plural = NOUNS[kind]
        number = tally.pop(plural, 0)
        if number:
            said.append(f"{number} {singular if number == 1 else plural}")
    return ", ".join(said)


def heading(kind: Kind) -> str:
    return WORDS[f"{kind}.heading"]


def lines(kind: Kind, items: Sequence[Item]) -> tuple[str, ...]:
    """One digest section's lines. Points are told per child ("Ada got 3 points
    (Kindness, Teamwork)"), everything else one line per item."""
    if kind is Kind.points:
        by_pupil: dict[str, list[Item]] = {}
        for item in items:
            by_pupil.setdefault(_pupil(item), []).append(item)
        return tuple(_points_line(pupil, awarded) for pupil, awarded in by_pupil.items())
    said = []
    for item in items:
        text = one(item)
        if text.body:
            said.append(WORDS["line.with_subject"].format(who=text.title, subject=text.body))
        else:
            said.append(text.title)
    return tuple(said)


def _points_line(pupil: str, items: Sequence[Item]) -> str:
    subjects = _subjects(items)
    key = "points.line" if subjects else "points.line.bare"
    key += ".one" if len(items) == 1 else ""
    return WORDS[key].format(pupil=pupil, count=len(items), subjects=subjects)


def _subjects(items: Iterable[Item]) -> str:
    # each subject once, in the order given: "Kindness, Teamwork", not "Kindness, Kindness"
    return ", ".join(dict.fromkeys(item.subject for item in items if item.subject))


def _sentence(text: str) -> str:
    # a fallback name ("the school") may open a sentence: "The school posted a story"
    return text[:1].upper() + text[1:]


def _pupil(item: Item) -> str:
    return item.pupil or WORDS["your_child"]


def _sender(item: Item) -> str:
    return item.sender or WORDS["the_school"]
