"""The address book: how to reach a person (email, language, name), in the private store.

The gateway owns accounts and writes here whenever an account's email, name or language is
made or changed (and on sign-in, for accounts older than the book); notifications read it.
A person is a key: ``"parent:<id>"`` or ``"staff:<id>"``. Forgetting a person removes their
entry at once, so an erased or closed account is written to no more.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schoolgate_kit.private.port import PrivateStore

CONTACTS = "contacts"


def person_key(kind: str, person_id: str) -> str:
    return f"{kind}:{person_id}"


@dataclass(frozen=True)
class Contact:
    person_key: str
    email: str | None
    language: str
    name: str
    updated_at: datetime


class Contacts:
    def __init__(self, private: PrivateStore) -> None:
        self.private = private

    async def set(
        self, person_key: str, email: str | None, language: str, name: str, now: datetime
    ) -> None:
        """How to reach the person from now on (None: by no email)."""
        doc = {"email": email, "language": language, "name": name, "updated_at": now.isoformat()}
        await self.private.put(CONTACTS, person_key, doc, now=now)

    async def get(self, person_key: str, now: datetime) -> Contact | None:
        doc = await self.private.get(CONTACTS, person_key, now=now)
        return None if doc is None else _contact(person_key, doc)

    async def get_many(self, person_keys: Collection[str], now: datetime) -> dict[str, Contact]:
        """Many people at once (a fan-out's), by key; those not in the book left out."""
        docs = await self.private.get_many(CONTACTS, person_keys, now=now)
        return {key: _contact(key, doc) for key, doc in docs.items()}

    async def forget(self, person_key: str) -> bool:
        """Whether there was an entry to remove."""
        return await self.private.delete(CONTACTS, person_key)


def _contact(person_key: str, doc: Mapping[str, Any]) -> Contact:
    return Contact(
        person_key=person_key,
        email=doc.get("email"),
        language=str(doc.get("language") or "en"),
        name=str(doc.get("name") or ""),
        updated_at=datetime.fromisoformat(doc["updated_at"]),
    )
