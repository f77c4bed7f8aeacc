"""A real SMTP server for tests and the benchmark (aiosmtpd, a dev dependency), on a free
loopback port, in a thread of its own.

It keeps every message it accepted, parsed, and counts the connections it was opened, so a
test reads what a person would have received and how it got there. It can be told to refuse
an address for good (550, a bounce) or for now (451), and to drop every open connection,
as a server restarting or timing out idle clients does.

    with LoopbackSmtp.running() as server:
        settings = Settings(smtp_url=server.url)
        ...
        message = server.to("ada@family.example")[-1]
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from schoolgate_kit.testing.waiting import until


@dataclass(frozen=True)
class Arrived:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes

    @functools.cached_property
    def message(self) -> EmailMessage:
        """Parsed when first read: a benchmark's two thousand are never parsed at all."""
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def body(self, subtype: str) -> str:
        """The ``text/plain`` (``"plain"``) or ``text/html`` (``"html"``) part, decoded."""
        part = self.message.get_body(preferencelist=(subtype,))
        assert part is not None and part.get_content_subtype() == subtype, f"no {subtype} part"
        return str(part.get_content())


class _Handler:
    def __init__(self, server: LoopbackSmtp) -> None:
        self._server = server

    async def handle_RCPT(
        self,
        smtp: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        answer = self._server.refusals.get(address.lower())
        if answer is not None:
            with self._server.lock:
                self._server.refused.append(address.lower())
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        with self._server.lock:
            self._server.arrived.append(
                Arrived(str(envelope.mail_from), tuple(envelope.rcpt_tos), content)
            )
        return "250 Message accepted for delivery"


class _CountingSMTP(SMTP):
    def __init__(self, server: LoopbackSmtp, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._owner = server

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        with self._owner.lock:
            self._owner.connections_made += 1
            self._owner.open_transports.add(transport)

    def connection_lost(self, error: Exception | None) -> None:
        with self._owner.lock:
            self._owner.open_transports.discard(self.transport)
        super().connection_lost(error)


class _Controller(Controller):
    def __init__(self, server: LoopbackSmtp, port: int) -> None:
        super().__init__(_Handler(server), hostname="127.0.0.1", port=port)
        self._owner = server

    def factory(self) -> SMTP:
        return _CountingSMTP(self._owner, self.handler, **self.SMTP_kwargs)


class LoopbackSmtp:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arrived: list[Arrived] = []
        self.refusals: dict[str, str] = {}
        self.refused: list[str] = []
        """Every address refused so far, as it was refused (once per try)."""
        self.connections_made = 0
        self.open_transports: set[asyncio.BaseTransport] = set()
        self._controller: _Controller | None = None
        self.port = 0

    @classmethod
    @contextlib.contextmanager
    def running(cls) -> Iterator[LoopbackSmtp]:
        server = cls()
        server.start()
        try:
            yield server
        finally:
            server.stop()

    def start(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self._controller = _Controller(self, self.port)
        self._controller.start()
        with self.lock:  # the controller's own check that it answers is no client's
            self.connections_made = 0

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?tls=none"

    @property
    def connections(self) -> int:
        """Connections clients opened since the server started."""
        with self.lock:
            return self.connections_made

    def bounce(self, address: str) -> None:
        """Refuse ``address`` for good from now on: 550, as for a mailbox that is gone."""
        self.refusals[address.lower()] = "550 5.1.1 No such mailbox here"

    def defer(self, address: str) -> None:
        """Refuse ``address`` for now: 451, as a busy or greylisting server does."""
        self.refusals[address.lower()] = "451 4.3.0 Try again later"

    def accept(self, address: str) -> None:
        self.refusals.pop(address.lower(), None)

    def drop_connections(self) -> None:
        """Close every client's connection, as a server closing idle clients does; returns
        once they are closed."""
        assert self._controller is not None
        done = threading.Event()

        def close_all() -> None:
            with self.lock:
                transports = list(self.open_transports)
            for transport in transports:
                transport.close()
            done.set()

        self._controller.loop.call_soon_threadsafe(close_all)
        assert done.wait(5), "the SMTP server's loop did not answer"

    def to(self, address: str) -> list[Arrived]:
        """What arrived for ``address``, oldest first."""
        with self.lock:
            return [a for a in self.arrived if address.lower() in map(str.lower, a.rcpt_tos)]

    async def wait_for(self, address: str, *, count: int = 1, within: float = 15) -> Arrived:
        """The newest message for ``address`` once ``count`` have arrived (a background
        send arrives after the answer that started it)."""
        await until(
            lambda: len(self.to(address)) >= count,
            within=within,
            why=f"{count} email(s) to arrive",
        )
        return self.to(address)[-1]
