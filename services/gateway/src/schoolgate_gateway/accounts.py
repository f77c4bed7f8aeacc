"""Accounts, sessions and sign-in secrets: in the private store, never the event log.

Passwords are Argon2 hashes. Session tokens, staff set-up links and pupils' sign-in cards
are random tokens stored only as their SHA-256, so a copy of the store opens nothing. Class
codes are short and shown on the classroom screen, so they expire within the day.

A class board (the classroom screen) pairs with a short code a teacher shows: used once,
within minutes, it becomes a board session that names one class and no person.

Every replica of the gateway shares the store, so a session, a set-up link used once or a
card retired on one replica is so on every other. Emails are unique whatever their case:
an account claims its lower-cased email (and its person) as keys of their own, which the
store lets only one writer add.

Each parent's and staff member's email, name and language are copied to the kit's address
book (``schoolgate_kit.contacts``) whenever they are made or changed, and on each sign-in
(for accounts older than the book), for notifications to read; forgetting an account
forgets its entry.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import pyotp
from pwdlib import PasswordHash
from pwdlib.exceptions import PwdlibError
from schoolgate_kit.clock import Clock, utc_now
from schoolgate_kit.contacts import Contacts, person_key
from schoolgate_kit.private import PrivateStore, open_private_store

ACCOUNTS = "accounts"
BY_PERSON = "account_by_person"
BY_EMAIL = "account_by_email"
SESSIONS = "sessions"
SETUP_LINKS = "setup_links"
RESET_LINKS = "reset_links"
CLASS_CODES = "class_codes"
PUPIL_CARDS = "pupil_cards"
BOARD_CODES = "board_codes"
BOARD_SESSIONS = "board_sessions"
RECOVERY_CODES = "recovery_codes"
TOTP_STEPS_USED = "totp_steps_used"
SECOND_FACTOR_CHALLENGES = "second_factor_challenges"
RECOVERY_CODE_COUNT = 10
CHALLENGE_TTL = timedelta(minutes=5)

hasher = PasswordHash.recommended()
# Verified against when an email is unknown, so both answers take as long.
_DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))
CLASS_CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY3479"  # no look-alikes: pupils type these


class Kind(StrEnum):
    staff = "staff"
    parent = "parent"
    pupil = "pupil"


@dataclass(frozen=True)
class Account:
    account_id: str
    kind: Kind
    person_id: str
    email: str | None
    display_name: str
    has_password: bool = False
    second_factor: bool = False
    language: str = "en"


@dataclass(frozen=True)
class Board:
    """A paired class board: which class of which school it shows, and nothing more."""

    board_id: str
    school_id: str
    class_id: str


class EmailTaken(Exception):
    pass


class HasPassword(Exception):
    """A set-up link reached an account that has a password already."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def email_key(email: str) -> str:
    return email.strip().lower()


def _account(account_id: str, doc: dict[str, Any]) -> Account:
    return Account(
        account_id=account_id,
        kind=Kind(doc["kind"]),
        person_id=doc["person_id"],
        email=doc["email"],
        display_name=doc["display_name"],
        has_password=doc.get("password_hash") is not None,
        second_factor=doc.get("totp_secret") is not None,
        language=doc.get("language", "en"),
    )


class Accounts:
    def __init__(
        self,
        store: PrivateStore,
        *,
        clock: Clock = utc_now,
        session_ttl: timedelta = timedelta(days=14),
    ) -> None:
        self.store = store
        self.clock = clock
        self._ttl = session_ttl
        self.contacts = Contacts(store)

    async def _remember(self, account: Account) -> None:
        """The account's contact details, as notifications will read them."""
        if account.kind is Kind.pupil:
            return  # pupils are sent nothing: their families are
        await self.contacts.set(
            person_key(account.kind.value, account.person_id),
            account.email,
            account.language,
            account.display_name,
            self.clock(),
        )

    @classmethod
    async def open(cls, location: str | Path, *, clock: Clock = utc_now) -> Accounts:
        """``location``: a private-store URL (``sqlite:///...``, ``mongodb://...``) or the
        path of an SQLite file."""
        url = f"sqlite:///{location}" if isinstance(location, Path) else location
        return cls(await open_private_store(url), clock=clock)

    async def _by_id(self, account_id: str) -> tuple[Account, dict[str, Any]] | None:
        doc = await self.store.get(ACCOUNTS, account_id, now=self.clock())
        return None if doc is None else (_account(account_id, doc), doc)

    async def _via(self, index: str, key: str) -> tuple[Account, dict[str, Any]] | None:
        pointer = await self.store.get(index, key, now=self.clock())
        return None if pointer is None else await self._by_id(pointer["account_id"])

    async def find(self, kind: Kind, person_id: str) -> Account | None:
        found = await self._via(BY_PERSON, f"{kind.value}:{person_id}")
        return None if found is None else found[0]

    async def by_email(self, email: str) -> Account | None:
        found = await self._via(BY_EMAIL, email_key(email))
        return None if found is None else found[0]

    async def ensure(
        self,
        kind: Kind,
        person_id: str,
        *,
        display_name: str,
        email: str | None = None,
        password: str | None = None,
    ) -> Account:
        """The account of this person, created if there is none yet."""
        existing = await self.find(kind, person_id)
        if existing is not None:
            return existing
        hashed = None if password is None else await asyncio.to_thread(hasher.hash, password)
        return await self._create(kind, person_id, display_name, email, hashed)

    async def _create(
        self, kind: Kind, person_id: str, display_name: str, email: str | None, hashed: str | None
    ) -> Account:
        now, account_id = self.clock(), uuid.uuid4().hex
        doc = {
            "kind": kind.value,
            "person_id": person_id,
            "email": email,
            "display_name": display_name,
            "password_hash": hashed,
        }
        # The account first (unreachable until a key points at it), then its keys: a
        # crash between them leaves an orphan that nothing finds, never a half account.
        await self.store.put(ACCOUNTS, account_id, doc, now=now)
        pointer = {"account_id": account_id}
        if email is not None and not await self.store.add(
            BY_EMAIL, email_key(email), pointer, now=now
        ):
            await self.store.delete(ACCOUNTS, account_id)
            raise EmailTaken(email)
        if not await self.store.add(BY_PERSON, f"{kind.value}:{person_id}", pointer, now=now):
            # another replica made this person's account first: theirs stands
            if email is not None:
                await self.store.delete(BY_EMAIL, email_key(email))
            await self.store.delete(ACCOUNTS, account_id)
            found = await self.find(kind, person_id)
            assert found is not None
            return found
        made = _account(account_id, doc)
        await self._remember(made)
        return made

    async def forget(self, kind: Kind, person_id: str) -> bool:
        """Delete the person's account, its sessions and the keys that find it: what an
        erasure leaves of them here is nothing. False if they had no account."""
        found = await self._via(BY_PERSON, f"{kind.value}:{person_id}")
        if found is None:
            return False
        account, doc = found
        await self.end_every_session(account)
        if doc.get("email"):
            await self.store.delete(BY_EMAIL, email_key(doc["email"]))
        await self.store.delete(BY_PERSON, f"{kind.value}:{person_id}")
        await self.store.delete(ACCOUNTS, account.account_id)
        await self.contacts.forget(person_key(kind.value, person_id))
        return True

    async def create_parent(self, *, email: str, password: str, display_name: str) -> Account:
        """A new parent account; ``EmailTaken`` (after as long as a creation takes) if the
        email has one already."""
        hashed = await asyncio.to_thread(hasher.hash, password)
        parent_id = f"parent-{uuid.uuid4().hex[:16]}"
        return await self._create(Kind.parent, parent_id, display_name, email, hashed)

    async def sign_in(self, email: str, password: str) -> Account | None:
        """The account for a right email and password; None otherwise, in equal time."""
        found = await self._via(BY_EMAIL, email_key(email))
        hashed = None if found is None else found[1].get("password_hash")
        # Argon2 is slow on purpose: keep it off the event loop.
        if found is None or hashed is None:
            await asyncio.to_thread(hasher.verify, password, _DUMMY_HASH)
            return None
        try:
            if not await asyncio.to_thread(hasher.verify, password, hashed):
                return None
        except PwdlibError:  # a damaged stored hash matches nothing; never a 500
            return None
        await self._remember(found[0])
        return found[0]

    async def set_password(
        self, account: Account, password: str, *, but: str | None = None
    ) -> None:
        """A new password, and every session of the account ends (but ``but``, the one
        that changed it, if given)."""
        hashed = await asyncio.to_thread(hasher.hash, password)
        found = await self._by_id(account.account_id)
        if found is None:
            raise LookupError(account.account_id)
        await self.store.put(
            ACCOUNTS, account.account_id, {**found[1], "password_hash": hashed}, now=self.clock()
        )
        await self.end_every_session(account, but=but)
        # a reset asked for before is about the old password: its link goes with it
        await self.store.delete_group(RESET_LINKS, account.account_id)

    async def change_details(
        self, account: Account, *, display_name: str | None = None, language: str | None = None
    ) -> Account:
        changes = {"display_name": display_name, "language": language}
        await self._update(account, **{k: v for k, v in changes.items() if v is not None})
        found = await self._by_id(account.account_id)
        assert found is not None
        await self._remember(found[0])
        return found[0]

    async def change_email(self, account: Account, email: str) -> Account:
        """The account answers to ``email`` from now on, and no longer to its old one;
        ``EmailTaken`` if another account has it."""
        now, old = self.clock(), account.email
        if old is None or email_key(old) != email_key(email):
            pointer = {"account_id": account.account_id}
            # the new key first, as when an account is made: a crash between the steps
            # leaves the account reachable by both, never by neither
            if not await self.store.add(BY_EMAIL, email_key(email), pointer, now=now):
                raise EmailTaken(email)
        await self._update(account, email=email)
        if old is not None and email_key(old) != email_key(email):
            await self.store.delete(BY_EMAIL, email_key(old))
        found = await self._by_id(account.account_id)
        assert found is not None
        await self._remember(found[0])
        return found[0]

    # -- a second factor (TOTP, with recovery codes) ---------------------------------------

    async def _update(self, account: Account, **changes: Any) -> None:
        found = await self._by_id(account.account_id)
        if found is None:
            raise LookupError(account.account_id)
        await self.store.put(
            ACCOUNTS, account.account_id, {**found[1], **changes}, now=self.clock()
        )

    async def begin_second_factor(self, account: Account) -> str:
        """A new authenticator secret, kept aside until a code from it is confirmed."""
        secret = pyotp.random_base32()
        await self._update(account, totp_pending=secret)
        return secret

    async def confirm_second_factor(
        self, account: Account, code: str, now: datetime
    ) -> list[str] | None:
        """Turn the second factor on with a right code from the new secret: the recovery
        codes (shown once, stored only as hashes); None for a wrong code."""
        found = await self._by_id(account.account_id)
        pending = None if found is None else found[1].get("totp_pending")
        if pending is None or not await self._fresh_totp(account, pending, code, now):
            return None
        await self._update(account, totp_secret=pending, totp_pending=None)
        await self.store.delete_group(RECOVERY_CODES, account.account_id)
        codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODE_COUNT)]
        for recovery in codes:
            await self.store.put(
                RECOVERY_CODES,
                self._recovery_key(account, recovery),
                {},
                now=now,
                group=account.account_id,
            )
        return codes

    async def turn_off_second_factor(self, account: Account) -> None:
        await self._update(account, totp_secret=None, totp_pending=None)
        await self.store.delete_group(RECOVERY_CODES, account.account_id)

    @staticmethod
    def _recovery_key(account: Account, code: str) -> str:
        return digest(f"{account.account_id}:{code.strip().lower().replace('-', '')}")

    async def _fresh_totp(self, account: Account, secret: str, code: str, now: datetime) -> bool:
        """A right code for now (or the step either side, for clocks that differ), never
        one already used: a code seen over someone's shoulder does not work twice."""
        totp = pyotp.TOTP(secret)
        typed = code.strip().replace(" ", "")
        for offset in (0, -1, 1):
            if hmac.compare_digest(totp.at(now, counter_offset=offset), typed):
                step = totp.timecode(now) + offset
                return await self.store.add(
                    TOTP_STEPS_USED,
                    f"{account.account_id}:{step}",
                    {},
                    now=now,
                    expires_at=now + timedelta(seconds=3 * totp.interval),
                )
        return False

    async def second_factor_ok(self, account: Account, code: str, now: datetime) -> bool:
        """A fresh authenticator code, or a recovery code (each works once)."""
        found = await self._by_id(account.account_id)
        secret = None if found is None else found[1].get("totp_secret")
        if secret is None:
            return False
        if await self._fresh_totp(account, secret, code, now):
            return True
        used = await self.store.take(RECOVERY_CODES, self._recovery_key(account, code), now=now)
        return used is not None

    async def new_challenge(self, account: Account, now: datetime) -> str:
        """A short-lived token standing for "the password was right", until the second
        factor is given: never a session by itself."""
        return await self._new_token(SECOND_FACTOR_CHALLENGES, account, now, CHALLENGE_TTL)

    async def challenged(self, token: str, now: datetime) -> Account | None:
        return await self._token_account(SECOND_FACTOR_CHALLENGES, token, now)

    async def end_challenge(self, token: str) -> None:
        await self.store.delete(SECOND_FACTOR_CHALLENGES, digest(token))

    # -- sessions -------------------------------------------------------------------------

    async def _new_token(
        self, collection: str, account: Account, now: datetime, ttl: timedelta
    ) -> str:
        """A random token for the account, stored as its hash, grouped under the account."""
        token = secrets.token_urlsafe(32)
        await self.store.put(
            collection,
            digest(token),
            {"account_id": account.account_id},
            now=now,
            group=account.account_id,
            expires_at=now + ttl,
        )
        return token

    async def _token_account(self, collection: str, token: str, now: datetime) -> Account | None:
        found = await self.store.get(collection, digest(token), now=now)
        if found is None:
            return None
        account = await self._by_id(found["account_id"])
        return None if account is None else account[0]

    async def first_sign_in(self, account: Account) -> bool:
        """Whether this is the account's first sign-in ever (it is remembered, so this
        answers True once): a new account's first browser is not news to its owner."""
        found = await self._by_id(account.account_id)
        if found is None or found[1].get("signed_in"):
            return False
        await self._update(account, signed_in=True)
        return True

    async def start_session(self, account: Account, now: datetime) -> str:
        return await self._new_token(SESSIONS, account, now, self._ttl)

    async def session(self, token: str, now: datetime) -> Account | None:
        return await self._token_account(SESSIONS, token, now)

    async def end_session(self, token: str) -> None:
        await self.store.delete(SESSIONS, digest(token))

    async def end_every_session(self, account: Account, *, but: str | None = None) -> int:
        """Sign the account out everywhere, except (if given) the session ``but``."""
        keep = None if but is None else digest(but)
        return await self.store.delete_group(SESSIONS, account.account_id, keep=keep)

    # -- staff set-up links ---------------------------------------------------------------

    async def new_setup_link(self, account: Account, now: datetime, ttl: timedelta) -> str:
        return await self._new_token(SETUP_LINKS, account, now, ttl)

    async def use_setup_link(self, token: str, password: str, now: datetime) -> Account | None:
        """Set the first password of the link's account; the link then stops working.

        None for a used, expired or unknown link; ``HasPassword`` if the account chose a
        password since the link was made (a set-up link never replaces one).
        """
        link = await self.store.take(SETUP_LINKS, digest(token), now=now)
        if link is None:
            return None
        found = await self._by_id(link["account_id"])
        if found is None:
            return None
        account, _ = found
        if account.has_password:
            raise HasPassword(account.account_id)
        await self.set_password(account, password)
        await self.store.delete_group(SETUP_LINKS, account.account_id)
        return Account(**{**account.__dict__, "has_password": True})

    # -- forgotten passwords: a link by email ------------------------------------------------

    async def new_reset_link(self, account: Account, now: datetime, ttl: timedelta) -> str:
        """A one-time link to choose a new password; only the newest one asked for works."""
        await self.store.delete_group(RESET_LINKS, account.account_id)
        return await self._new_token(RESET_LINKS, account, now, ttl)

    async def reset_link_works(self, token: str, now: datetime) -> bool:
        return await self.store.get(RESET_LINKS, digest(token), now=now) is not None

    async def use_reset_link(self, token: str, password: str, now: datetime) -> Account | None:
        """A new password for the link's account, which is then signed out everywhere; the
        link stops working. None for a used, expired, replaced or unknown link. Nobody is
        signed in: whoever reset it signs in next, with the second factor if it has one."""
        link = await self.store.take(RESET_LINKS, digest(token), now=now)
        if link is None:
            return None
        found = await self._by_id(link["account_id"])
        if found is None:
            return None
        account = found[0]
        await self.set_password(account, password)
        # a password-right sign-in waiting for its second factor was the old password's
        await self.store.delete_group(SECOND_FACTOR_CHALLENGES, account.account_id)
        return account

    # -- pupils: class codes and personal cards -------------------------------------------

    async def new_class_code(
        self, school_id: str, class_id: str, now: datetime, ttl: timedelta
    ) -> str:
        return await self._new_code(CLASS_CODES, school_id, class_id, now, ttl)

    async def _new_code(
        self, collection: str, school_id: str, class_id: str, now: datetime, ttl: timedelta
    ) -> str:
        """A short code for a class, to type from the board; a new one retires the old."""
        await self.store.delete_group(collection, class_id)
        while True:
            code = "".join(secrets.choice(CLASS_CODE_ALPHABET) for _ in range(6))
            if await self.store.add(
                collection,
                code,
                {"school_id": school_id, "class_id": class_id},
                now=now,
                group=class_id,
                expires_at=now + ttl,
            ):
                return code

    async def class_for_code(self, code: str, now: datetime) -> tuple[str, str] | None:
        found = await self.store.get(CLASS_CODES, code.strip().upper(), now=now)
        return None if found is None else (str(found["school_id"]), str(found["class_id"]))

    async def new_pupil_card(self, pupil_id: str, now: datetime, ttl: timedelta) -> str:
        """A personal sign-in token for a printed QR card; a new card retires the old one."""
        token = secrets.token_urlsafe(24)
        await self.store.delete_group(PUPIL_CARDS, pupil_id)
        await self.store.put(
            PUPIL_CARDS,
            digest(token),
            {"pupil_id": pupil_id},
            now=now,
            group=pupil_id,
            expires_at=now + ttl,
        )
        return token

    async def pupil_for_card(self, token: str, now: datetime) -> str | None:
        found = await self.store.get(PUPIL_CARDS, digest(token), now=now)
        return None if found is None else str(found["pupil_id"])

    # -- class boards: a code shown once, then a board session for one class ----------------

    async def new_board_code(
        self, school_id: str, class_id: str, now: datetime, ttl: timedelta
    ) -> str:
        """A one-use pairing code for the class's board; a new one retires the unused one."""
        return await self._new_code(BOARD_CODES, school_id, class_id, now, ttl)

    async def pair_board(
        self, code: str, now: datetime, ttl: timedelta
    ) -> tuple[str, Board] | None:
        """Use a board code up (of racing replicas one wins): a board session's token."""
        found = await self.store.take(BOARD_CODES, code.strip().upper(), now=now)
        if found is None:
            return None
        board = Board(uuid.uuid4().hex, str(found["school_id"]), str(found["class_id"]))
        token = secrets.token_urlsafe(32)
        await self.store.put(
            BOARD_SESSIONS,
            digest(token),
            {"board_id": board.board_id, "school_id": board.school_id, "class_id": board.class_id},
            now=now,
            group=board.class_id,
            expires_at=now + ttl,
        )
        return token, board

    async def board(self, token: str, now: datetime) -> Board | None:
        found = await self.store.get(BOARD_SESSIONS, digest(token), now=now)
        if found is None:
            return None
        return Board(str(found["board_id"]), str(found["school_id"]), str(found["class_id"]))

    async def end_board(self, token: str) -> None:
        await self.store.delete(BOARD_SESSIONS, digest(token))

    async def end_boards(self, class_id: str) -> int:
        """Every board of the class goes blank, and its unused code stops working."""
        await self.store.delete_group(BOARD_CODES, class_id)
        return await self.store.delete_group(BOARD_SESSIONS, class_id)

    async def count(self) -> int:
        return await self.store.count(ACCOUNTS, now=self.clock())

    async def ping(self) -> None:
        await self.store.ping()

    async def close(self) -> None:
        await self.store.close()
