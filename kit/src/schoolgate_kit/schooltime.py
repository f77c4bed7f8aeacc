"""When a school's staff are "in": the working hours and term dates that decide quiet time,
for messaging (receipts held, replies expected) and notifications (staff alerts held).

Families may write at any hour, but staff answer in the school's working time, so a parent
is told when to expect a reply, a teacher's read receipt is held until hours start, and a
message only counts as waiting once a whole school day of working time has passed.

Pure: no clock is read here (``now`` and ``at`` are arguments) and nothing is stored.
Datetimes come in aware (any offset) and go out aware in UTC; the school's own wall clock
(its timezone, so a clock change moves nothing a parent sees) is used only inside.

When no school day lies within ``HORIZON`` of a moment (the school gave term dates and the
last of them has passed, or names no working day) the answers that need one are ``None``:
"not known yet", never a guess. Callers compute these per request from the current calendar,
so once the next term's dates are entered a held receipt or an open question resolves.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from schoolgate_contracts.roster import SchoolDetails, Term

HORIZON = timedelta(days=400)
"""How far ahead a search for school days goes: past the longest summer holiday and a gap
year of term dates, yet bounded so a calendar with no school days cannot loop forever."""

Span = tuple[date, date]
"""A term or holiday, both days included."""

_LONDON = "Europe/London"
_WEEKDAYS = frozenset(range(5))
_STARTS = time(8, 0)
_ENDS = time(17, 0)


def _london() -> ZoneInfo:
    # A factory, so importing this module reads no timezone file.
    return ZoneInfo(_LONDON)


@dataclass(frozen=True)
class Calendar:
    """A school's (or its office's) working time. ``Calendar()`` is the default a school
    without details yet gets: Europe/London, Monday to Friday, 08:00-17:00, no term dates."""

    timezone: ZoneInfo = field(default_factory=_london)
    working_days: frozenset[int] = _WEEKDAYS
    """Weekdays counted from Monday = 0."""
    day_starts: time = _STARTS
    day_ends: time = _ENDS
    terms: tuple[Span, ...] = ()
    holidays: tuple[Span, ...] = ()

    def __post_init__(self) -> None:
        if not self.working_days <= frozenset(range(7)):
            raise ValueError("working days are 0 (Monday) to 6 (Sunday)")
        if self.day_starts.tzinfo is not None or self.day_ends.tzinfo is not None:
            raise ValueError("working hours are times of the school's day, with no offset")
        if self.day_starts >= self.day_ends:
            raise ValueError("the working day must start before it ends")

    @property
    def day_length(self) -> timedelta:
        """One full working day, the unit of "waiting longer than a school day"."""
        return _wall(date.min, self.day_ends) - _wall(date.min, self.day_starts)

    @classmethod
    def of(
        cls,
        details: SchoolDetails | Mapping[str, Any] | None,
        *,
        days: Iterable[int] | None = None,
        starts: time | str | None = None,
        ends: time | str | None = None,
    ) -> Calendar:
        """The calendar of a school from its roster details, or from the JSON dict a read
        model keeps of them (other keys ignored, missing ones default). ``days``, ``starts``
        and ``ends`` override the working hours, for an office that keeps its own hours
        within the school's terms and holidays. ``None`` details: the default calendar."""
        school = _read(details)
        return cls(
            timezone=ZoneInfo(school.get("timezone") or _LONDON),
            working_days=frozenset(days if days is not None else school["working_days"]),
            day_starts=_time(starts if starts is not None else school["day_starts"]),
            day_ends=_time(ends if ends is not None else school["day_ends"]),
            terms=tuple(_span(term) for term in school["terms"]),
            holidays=tuple(_span(holiday) for holiday in school["holidays"]),
        )


@dataclass(frozen=True)
class Expectation:
    """What a family writing now can be told. Words belong to the page: it gets the local
    datetime (``reply_after_local``, in the school's timezone) to say "after 8:00 on Monday"."""

    in_hours: bool
    reply_after: datetime | None
    """UTC; ``None`` when staff are in now, or when no school day is known ahead."""
    reply_after_local: datetime | None


def is_school_day(cal: Calendar, day: date) -> bool:
    """A working weekday, not in a holiday, and in a term when the school gave any terms:
    the days between terms are holidays without saying."""
    if day.weekday() not in cal.working_days or _within(day, cal.holidays):
        return False
    return not cal.terms or _within(day, cal.terms)


def in_hours(cal: Calendar, at: datetime) -> bool:
    """Whether staff are in at ``at``: a school day, from ``day_starts`` up to, not
    including, ``day_ends`` on the school's clock."""
    local = _local(cal, at)
    return is_school_day(cal, local.date()) and cal.day_starts <= local.time() < cal.day_ends


def next_start(cal: Calendar, at: datetime) -> datetime | None:
    """``at`` itself when staff are in, else the moment hours next start; ``None`` when no
    school day lies within ``HORIZON``. Walks day by day on the school's wall clock, so the
    Monday after a clock change still starts at 08:00 local."""
    local = _local(cal, at)
    for day in _school_days(cal, local.date()):
        opens = _wall(day, cal.day_starts)
        if local < opens:
            return _utc(cal, opens)
        if local < _wall(day, cal.day_ends):
            return at.astimezone(UTC)
    return None


def receipt_shown_from(cal: Calendar, read_at: datetime) -> datetime | None:
    """When a family may see that staff read their message: at once in hours, else when
    hours next start, so a parent never learns a teacher read it at 22:00."""
    return next_start(cal, read_at)


def reply_due(cal: Calendar, sent_at: datetime) -> datetime | None:
    """The moment one full working day of in-hours time has passed since ``sent_at``
    (counted from the next start when sent outside hours), skipping evenings, weekends,
    holidays and the days between terms. A day used up exactly at closing falls due at the
    next start (Saturday's message is due 08:00 Tuesday), when staff can next act on it."""
    start = next_start(cal, sent_at)
    if start is None:
        return None
    local = _local(cal, start)
    left = cal.day_length
    for day in _school_days(cal, local.date()):
        opens = max(local, _wall(day, cal.day_starts))
        open_for = _wall(day, cal.day_ends) - opens
        if left < open_for:
            return _utc(cal, opens + left)
        left -= open_for
    return None


def overdue(cal: Calendar, sent_at: datetime, now: datetime) -> bool:
    """Whether a message has waited longer than one school day (the leaders' view); never
    when its due moment is not known."""
    due = reply_due(cal, sent_at)
    return due is not None and now > due


def expectation(cal: Calendar, now: datetime) -> Expectation:
    """What to tell a family writing at ``now``: nothing extra in hours, else after when a
    reply can come."""
    if in_hours(cal, now):
        return Expectation(in_hours=True, reply_after=None, reply_after_local=None)
    after = next_start(cal, now)
    local = after.astimezone(cal.timezone) if after is not None else None
    return Expectation(in_hours=False, reply_after=after, reply_after_local=local)


def _school_days(cal: Calendar, first: date) -> Iterator[date]:
    day, last = first, first + HORIZON
    while day <= last:
        if is_school_day(cal, day):
            yield day
        day += timedelta(days=1)


def _within(day: date, spans: tuple[Span, ...]) -> bool:
    return any(starts <= day <= ends for starts, ends in spans)


def _local(cal: Calendar, at: datetime) -> datetime:
    """``at`` as a naive wall-clock time of the school, the frame all comparisons use."""
    if at.utcoffset() is None:
        raise ValueError("a moment needs its offset: pass an aware datetime")
    return at.astimezone(cal.timezone).replace(tzinfo=None)


def _wall(day: date, at: time) -> datetime:
    return datetime.combine(day, at)


def _utc(cal: Calendar, wall: datetime) -> datetime:
    return wall.replace(tzinfo=cal.timezone).astimezone(UTC)


def _read(details: SchoolDetails | Mapping[str, Any] | None) -> Mapping[str, Any]:
    defaults: dict[str, Any] = {
        "working_days": _WEEKDAYS,
        "day_starts": _STARTS,
        "day_ends": _ENDS,
        "terms": (),
        "holidays": (),
    }
    if details is None:
        return defaults
    if isinstance(details, SchoolDetails):
        return {**defaults, **dict(details)}
    return {**defaults, **{k: v for k, v in details.items() if v is not None}}


def _time(value: time | str) -> time:
    return value if isinstance(value, time) else time.fromisoformat(value)


def _date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _span(term: Term | Mapping[str, Any]) -> Span:
    if isinstance(term, Term):
        return (term.starts, term.ends)
    return (_date(term["starts"]), _date(term["ends"]))
