"""Does a parent's message to a teacher look like office business? Pure rules, no I/O.

The school's messaging policy sends absence, sickness, appointments, dinners, music lessons,
complaints and urgent collection changes to the office. Before a message goes to a teacher,
`detect` says which of those it looks like and which words made it think so, so the page can
say why in plain words and let the parent choose openly. It is a hint, never a block.

Rules are data, one `LanguageRules` per language code in `RULES`, so another language is a new
entry, not new code. A language without an entry falls back to English (`detect` never fails
on an unknown code; the English words simply will not match much). A leader can add words per
matter (`extra_words`); those are matched literally as whole words or phrases, and the
language's `not_cues` hold for them too.

Cue syntax (written in the rules' own normal form, see `_normal`):
- words separated by spaces must appear in order, separated only by spaces or punctuation;
- a word ending in `*` is a stem (`vomit*` matches vomit, vomiting, vomited);
- a lone `~` lets up to three words sit between its neighbours (`pick ~ up`).
A `not_cues` phrase found in a sentence stops that matter's cues in that sentence counting:
"sick of spelling" is an idiom, "loved the violin in class" is the teacher's business.

Where the policy is silent we chose:
- "appointment" is a medical, dental or outside appointment, or a meeting asked of the head,
  deputy, SENCo or office. A chat with the class teacher about learning stays with the teacher.
- "collection" needs a change to who collects or when (late, someone else, going home with a
  friend); the word "urgent" alone is not enough.
- Going abroad in the holidays is not an absence; missing school days is.

Precedence when several matters match (`PRECEDENCE`): complaint, sickness, appointment,
collection, absence, dinners, music lessons. A complaint's words say what the whole message is
for, whatever it complains about ("not happy with the pick-up arrangements"). Sickness and
appointments are the reason behind the absence or early collection they usually mention, and
the reason is what the office records. A same-day change to collection outranks a plain
absence because it is time-critical. Dinners and music lessons are routine and come last.
Every matter goes to the same office, so the order changes the wording, never the route.

Cost is bounded: text beyond `MAX_TEXT_CHARS` is not read, a leader's words are capped in
number and length, and every pattern is a flat alternation of literal words whose gaps are
bounded and made of disjoint character classes, so matching is linear in the text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, get_args

Matter = Literal[
    "absence", "sickness", "appointment", "dinners", "music_lessons", "complaint", "collection"
]
MATTERS: tuple[Matter, ...] = get_args(Matter)

PRECEDENCE: tuple[Matter, ...] = (
    "complaint",
    "sickness",
    "appointment",
    "collection",
    "absence",
    "dinners",
    "music_lessons",
)

MAX_EXTRA_WORDS_PER_MATTER = 50
MAX_WORD_LENGTH = 40
MAX_TEXT_CHARS = 5_000


@dataclass(frozen=True, slots=True)
class Detected:
    matter: Matter
    # As they appear in the normalised text (lower case, no accents or apostrophes), in order.
    matched: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LanguageRules:
    cues: Mapping[Matter, tuple[str, ...]]
    not_cues: Mapping[Matter, tuple[str, ...]]


_INSTRUMENTS = (
    "violin*",
    "viola*",
    "cello*",
    "guitar*",
    "ukulele*",
    "uke",
    "piano*",
    "keyboard*",
    "drum",
    "drums",
    "trumpet*",
    "trombone*",
    "clarinet*",
    "flute*",
    "saxophone*",
    "sax",
    "recorder",
    "brass",
    "woodwind",
    "cornet*",
    "harp",
    "harps",
    "oboe*",
    "bassoon*",
    "percussion",
)

ENGLISH = LanguageRules(
    cues={
        "sickness": (
            "sick",
            "off sick",
            "sickness",
            "poorly",
            "unwell",
            # Not "ill" alone: with apostrophes gone, and on phones without them, "I'll" is "ill".
            "is ill",
            "was ill",
            "been ill",
            "feeling ill",
            "feels ill",
            "taken ill",
            "too ill",
            "very ill",
            "really ill",
            "ill with",
            "not well",
            "isn't well",
            "not feeling well",
            "temperature",
            "temp",
            "fever*",
            "d&v",
            "d and v",
            "vomit*",
            "throwing up",
            "threw up",
            "thrown up",
            "being sick",
            "diarrh*",
            "bug",
            "chickenpox",
            "chicken pox",
            "flu",
            "covid",
            "tonsillitis",
            "conjunctivitis",
            "infection",
            "rash",
            "scarlet fever",
            "hand foot and mouth",
            "cough*",
            "headache",
            "migraine",
            "tummy ache",
            "stomach ache",
            "earache",
            "48 hour*",
            "48hr*",
            "in hospital",
            "broke* ~ arm",
            "broke* ~ leg",
            "broken arm",
            "broken leg",
            "antibiotics",
            "full of cold",
            "sore throat",
            "tummy bug",
            "virus",
            "impetigo",
            "norovirus",
            "measles",
            "mumps",
            "glandular fever",
            "strep*",
            "threadworm*",
            "asthma attack",
            "asthma ~ bad",
            "in bed",
            "dizzy",
            "lethargic",
            "feeling sick",
            "off colour",
            "under the weather",
            "allergic reaction",
        ),
        "absence": (
            "absent",
            "absence",
            "won't be in",
            "will not be in",
            "not be in school",
            "not coming in",
            "not come in",
            "won't be attending",
            "not be attending",
            "won't make it in",
            "miss school",
            "missing school",
            "miss ~ days",
            "term time",
            "funeral",
            "wedding",
            "day off",
            "days off",
            "leave of absence",
            "unauthorised",
            "authorised",
            "be away",
            "will be off",
            "be off for",
            "be off on",
            "out of school",
            "not be at school",
            "not at school",
            "won't be at school",
            "not be in",
            "can't come in",
            "won't be coming in",
            "not coming to school",
            "off school",
            "take ~ out of school",
            "taking ~ out of school",
            "request ~ leave",
            "day's leave",
            "days leave",
            "leave in term*",
            "christening",
            "graduation",
            "religious holiday",
            "bar mitzvah",
            "bat mitzvah",
            "make it in",
        ),
        "appointment": (
            "appointment*",
            "appt*",
            "dr's",
            "doctor's",
            "doctors",
            "gp",
            "dentist*",
            "dental",
            "orthodontist*",
            "optician*",
            "eye test",
            "hearing test",
            "audiology",
            "clinic",
            "at the surgery",
            "the nurse",
            "asthma review",
            "at the hospital",
            "to the hospital",
            "eye hospital",
            "assessment",
            "paediatrician*",
            "pediatrician*",
            "consultant",
            "blood test*",
            "x ray",
            "scan",
            "therap*",
            "optometrist*",
            "audiologist*",
            "ent",
            "speech and language",
            "immunisation*",
            "vaccin*",
            "booster",
            "request a meeting",
            "meeting with ~ head*",
            "meeting with ~ deputy",
            "meeting with ~ senco",
            "meeting with ~ office",
            "cardiology",
            "dermatology",
            "neurology",
            "orthopaedic*",
            "outpatients",
            "department",
            "hospital appointment",
            "physio*",
            "therapy",
            "camhs",
            "jabs",
            "vaccination*",
            "injection*",
            "check up",
            "meeting with the head*",
            "meeting with the deputy",
            "see the head*",
            "see the deputy",
            "speak to the head*",
            "speak to the deputy",
            "speak to the business manager",
            "headteacher",
            "head teacher",
            "senco",
            "arrange a meeting",
            "book a meeting",
        ),
        "collection": (
            "pick ~ up",
            "picking ~ up",
            "picked ~ up",
            "pickup",
            "pick up",
            "collect",
            "collecting",
            "collected",
            "collection",
            "running late",
            "be late",
            "late to collect",
            "late for pick*",
            "stuck in traffic",
            "get there",
            "be there by",
            "be there asap",
            "hang on to",
            "hold on to",
            "keep ~ with you",
            "keep hold of",
            "on my way",
            "mins behind",
            "minutes behind",
            "running behind",
            "held up",
            "will be getting",
            "get ~ from school",
            "after school today",
            "going to ~ after school",
            "go to ~ after school",
            "walk* home",
            "home on ~ own",
            "stay in the office",
            "running ~ late",
            "be ~ late",
            "mins late",
            "minutes late",
            "home time",
            "getting the bus",
            "get the bus",
            "go home with",
            "going home with",
            "walking home",
            "walk home",
            "wait in the office",
            "in the office till",
            "in the office until",
            "after school club",
        ),
        "dinners": (
            "dinner*",
            "school meal*",
            "meals",
            "free school meals",
            "fsm",
            "packed lunch*",
            "lunches",
            "lunch menu",
            "menu",
            "hot dinner",
            "kitchen",
            "parentpay",
            "veggie option",
            "vegetarian option",
            "meal",
            "school lunch*",
            "main meal",
            "halal",
            "kosher",
            "jacket potato*",
            "lunch option*",
            "meal option*",
            "the cook",
            "allergic to",
        ),
        "music_lessons": (
            *_INSTRUMENTS,
            "peripatetic",
            "music service",
            "music lessons",
            "singing lessons",
            "instrument*",
            "grade ~ piano",
        ),
        "complaint": (
            # Not "complaining": that is mostly the child ("complaining of a sore tummy").
            "complain",
            "complaint*",
            "complained",
            "formal complaint",
            "not happy",
            "unhappy",
            "not satisfied",
            "dissatisfied",
            "disappointed",
            "disgusted",
            "appalled",
            "unacceptable",
            "fuming",
            "ridiculous",
            "raise a concern",
            "escalate",
            "governors",
            "looked into",
            "not acceptable",
            "not impressed",
            "not good enough",
            "angry that",
            "upset that",
            "and angry",
            "very angry",
            "really angry",
            "so angry",
            "furious",
            "livid",
            "outraged",
            "disgraceful",
            "shocking",
            "let down",
            "raised this",
            "nothing has changed",
            "someone senior",
            "on record",
            "isn't good enough",
        ),
    },
    not_cues={
        "sickness": (
            "sick of",
            "sick and tired",
            "sick to death",
            "cough sweet*",
            "fine now",
            "but she's fine",
            "but he's fine",
            "is fine",
        ),
        "complaint": ("complained of",),
        "dinners": ("christmas dinner",),
        # Asking the teacher for a word at pick-up is not a change to who collects.
        "collection": ("quick word", "quick chat", "have a word", "have a chat"),
        # Visitors to the class ("the dentist came to talk about teeth") are the teacher's.
        "appointment": (
            "visit* the class",
            "visit* our class",
            "came in to class",
            "the class about",
            # What a child wants to be is not where they are going.
            "wants to be",
            "grows up",
        ),
        "music_lessons": (
            "in class",
            "the class",
            "workshop",
            "loved",
            "enjoyed",
            "outside school",
            "assembly",
            "player*",
            "have a go",
        ),
        "absence": ("summer holiday*", "school holiday*", "half term holiday*"),
    },
)

RULES: dict[str, LanguageRules] = {"en": ENGLISH}

_APOSTROPHES = re.compile(r"['\u2019\u2018`\u02bc]")
_DASHES = re.compile(r"[-\u2010-\u2015]")
_SPACES = re.compile(r"\s+")
# A stop inside "2.30" or "a.b" does not end a sentence.
_SENTENCE_END = re.compile(r"[.!?;]+(?:\s|$)")
_WORD = re.compile(r"\w")


def _normal(text: str) -> str:
    """Lower case, no accents or apostrophes ("won't" is "wont"), dashes as spaces, one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    bare = _APOSTROPHES.sub("", bare.casefold())
    return _SPACES.sub(" ", _DASHES.sub(" ", bare)).strip()


def _cue_pattern(cue: str, *, literal: bool) -> str:
    pattern = r"(?<!\w)"
    gap = False
    for i, word in enumerate(_normal(cue).split(" ")):
        if not literal and word == "~":
            gap = True
            continue
        if i:
            # A gap is at most three words; \W+ and \w+ never overlap, so the few ways to
            # split it are all the engine can backtrack over.
            pattern += r"(?:\W+\w+){0,3}\W+" if gap else r"\W+"
        gap = False
        if not literal and word.endswith("*") and len(word) > 1:
            pattern += re.escape(word[:-1]) + r"\w*"
        else:
            pattern += re.escape(word)
    return pattern + r"(?!\w)"


def _alternation(cues: Sequence[str], *, literal: bool) -> re.Pattern[str] | None:
    patterns = [_cue_pattern(cue, literal=literal) for cue in cues if _WORD.search(cue)]
    if not patterns:
        return None
    # Longest first, so "off sick" is reported rather than "sick" when both fit.
    patterns.sort(key=len, reverse=True)
    return re.compile("|".join(patterns))


@dataclass(frozen=True, slots=True)
class _Compiled:
    cues: Mapping[Matter, re.Pattern[str] | None]
    not_cues: Mapping[Matter, re.Pattern[str] | None]


@lru_cache(maxsize=8)
def _compiled(language: str) -> _Compiled:
    rules = RULES.get(language, ENGLISH)
    return _Compiled(
        cues={m: _alternation(rules.cues.get(m, ()), literal=False) for m in MATTERS},
        not_cues={m: _alternation(rules.not_cues.get(m, ()), literal=False) for m in MATTERS},
    )


def _leaders_words(extra_words: Mapping[Matter, Sequence[str]]) -> dict[Matter, re.Pattern[str]]:
    compiled: dict[Matter, re.Pattern[str]] = {}
    for matter in MATTERS:
        words = extra_words.get(matter, ())
        if isinstance(words, str):  # one word given bare would otherwise become its letters
            words = (words,)
        kept = [
            word
            for word in list(words)[:MAX_EXTRA_WORDS_PER_MATTER]
            if isinstance(word, str) and len(word.strip()) <= MAX_WORD_LENGTH
        ]
        pattern = _alternation(kept, literal=True)
        if pattern is not None:
            compiled[matter] = pattern
    return compiled


def detect(
    text: str,
    *,
    extra_words: Mapping[Matter, Sequence[str]] = {},
    language: str = "en",
) -> Detected | None:
    """The office matter `text` looks like, with the words that show it, or None.

    `language` picks the rule set in `RULES`; an unknown code uses English.
    """
    rules = _compiled(language)
    leaders = _leaders_words(extra_words)
    sentences = [s for s in _SENTENCE_END.split(_normal(text[:MAX_TEXT_CHARS])) if s.strip()]
    found: dict[Matter, list[str]] = {}
    for matter in MATTERS:
        patterns = [p for p in (rules.cues[matter], leaders.get(matter)) if p is not None]
        veto = rules.not_cues[matter]
        for sentence in sentences:
            if veto is not None and veto.search(sentence):
                continue
            for pattern in patterns:
                for match in pattern.finditer(sentence):
                    words = found.setdefault(matter, [])
                    if match.group(0) not in words:
                        words.append(match.group(0))
    for matter in PRECEDENCE:
        if matter in found:
            return Detected(matter=matter, matched=tuple(found[matter]))
    return None
