"""Email: composing a message (plain text and HTML), and sending it over SMTP.

A deployment names its mail server in ``SCHOOLGATE_SMTP_URL``; without one there is no
``Mailer`` (``Mailer.from_settings`` answers None) and callers say so to people instead of
sending. A ``Mailer`` keeps a few SMTP connections open and reuses them, so two thousand
emails cost a few connections, not two thousand handshakes; a connection the server closed
while idle is replaced once, transparently.

A failed send raises one of two errors, and callers act on which: ``TemporaryFailure``
(the server is away, busy or answered 4xx; or it refused our credentials or sender, which
an operator fixes: retry later, then dead-letter, replayable) or ``PermanentFailure`` (the
recipient or the message was refused with 5xx: a bounce; retrying sends nothing).

The words of an email around its content come from ``WORDS``, per language, English when a
language has none; everything a person wrote is escaped into the HTML.
"""

from __future__ import annotations

import asyncio
import html
import re
import ssl
import string
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from schoolgate_kit.settings import Settings

Tls = Literal["starttls", "tls", "none"]


class MailFailure(Exception):
    """A send that did not happen. The message never carries the recipient's address, so
    it can be logged as it is."""


class TemporaryFailure(MailFailure):
    """Try again later: the server was unreachable, dropped us, timed out or said 4xx."""


class PermanentFailure(MailFailure):
    """Do not try again: the server refused this recipient or this message (5xx)."""

    def __init__(self, message: str, *, code: int) -> None:
        super().__init__(message)
        self.code = code


# -- the server --------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: Tls
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> SmtpServer:
        """``smtp://user:password@host:port?tls=starttls|tls|none`` (``smtps://`` is
        ``tls=tls``). Without ``tls`` a port of 465 means TLS from the start, any other
        STARTTLS: never plain text unless asked for."""
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError("an SMTP URL looks like smtp://user:password@host:587")
        asked = parse_qs(parts.query).get("tls", [""])[0]
        port = parts.port or (465 if parts.scheme == "smtps" else 587)
        tls: str = asked or ("tls" if parts.scheme == "smtps" or port == 465 else "starttls")
        if tls not in {"starttls", "tls", "none"}:
            raise ValueError("tls= is one of starttls, tls, none")
        return cls(
            host=parts.hostname,
            port=port,
            tls=tls,  # type: ignore[arg-type]  # checked just above
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


# -- composing ---------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def one_line(text: str) -> str:
    """Header text from anything a person typed: no line breaks to inject headers with."""
    return _SPACES.sub(" ", text).strip()


def compose(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html_body: str,
    now: datetime,
    language: str = "en",
    to_name: str | None = None,
    unsubscribe: str | None = None,
    message_id: str | None = None,
) -> Message:
    """An email with a plain-text and an HTML body (multipart/alternative: the mail app
    shows the best it can). ``unsubscribe``, an https link answering a POST, adds the
    one-click unsubscribe headers of RFC 8058, which mail apps show as a button.

    Built with the stdlib's classic (compat32) classes: a quarter of the time of
    ``EmailMessage``'s header registry, which a whole-school send to 2,000 families feels.
    They check nothing, so every header value is checked here: one line, and anything a
    person typed (a subject, a name) encoded per RFC 2047 where it is not ASCII."""
    message = MIMEMultipart("alternative")
    message["Subject"] = _encoded("Subject", one_line(subject))
    message["From"] = _mailbox(*parseaddr(sender))
    message["To"] = _mailbox(to_name or "", to)
    message["Date"] = format_datetime(now)
    # ``message_id``: the same for every try of one email (made from what it is about and for
    # whom), so a resend after a crash is one message to the reader's mail app, not two
    message["Message-ID"] = (
        f"<{message_id}@{_domain(sender)}>" if message_id else make_msgid(domain=_domain(sender))
    )
    message["Content-Language"] = _plain(language)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    if unsubscribe is not None:
        if urlsplit(unsubscribe).scheme not in {"https", "http"}:
            raise ValueError("an unsubscribe link is a web address")
        message["List-Unsubscribe"] = f"<{_plain(unsubscribe)}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.attach(_text(text, "plain"))
    message.attach(_text(html_body, "html"))
    return message


_UTF8 = Charset("utf-8")
_UTF8.header_encoding = QP
_UTF8.body_encoding = QP  # mostly ASCII text stays readable in the raw message


def _text(body: str, subtype: str) -> MIMENonMultipart:
    part = MIMENonMultipart("text", subtype, charset="utf-8")
    part.set_payload(body, _UTF8)
    return part


def _plain(value: str) -> str:
    """A header value that must be one line of ASCII as it is (an address, a link)."""
    if not value.isascii() or any(c in value for c in "\r\n\0"):
        raise ValueError("a header value here is one line of ASCII")
    return value


def _encoded(name: str, value: str) -> str:
    """Text a person typed, as a header: encoded words (RFC 2047) where it is not ASCII."""
    return value if value.isascii() else Header(value, _UTF8, header_name=name).encode()


def _mailbox(name: str, address: str) -> str:
    address = _plain(address.strip())
    if "@" not in address or any(c.isspace() or c in "<>,;" for c in address):
        raise ValueError("an email address is one mailbox")
    return formataddr((one_line(name), address), charset="utf-8")


def _domain(sender: str) -> str:
    # make_msgid without a domain asks the resolver for this machine's name: slow, and
    # it names the machine
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "schoolgate.invalid"


# -- templates ---------------------------------------------------------------------------

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "greeting": "Hello $name,",
        "greeting_anonymous": "Hello,",
        "copy_link": "If the button does not work, copy this address into your browser:",
        "sent_by": "Sent by Schoolgate for $school.",
        "sent_by_anonymous": "Sent by Schoolgate.",
        "unsubscribe": "Stop these emails",
        "why": "You get these emails because you chose them in Schoolgate.",
        "cannot_stop": "This is about your account, so it is always sent.",
    },
}
"""The fixed words of an email, per language: a language is added as a dict of the same
keys. ``$name`` and ``$school`` are filled in (escaped for the HTML)."""


def words_for(
    language: str, catalogue: Mapping[str, Mapping[str, str]] = WORDS
) -> Mapping[str, str]:
    """A language's words, English for a language the catalogue does not have (yet); a
    regional tag (``fr-BE``) falls back to its language (``fr``)."""
    return (
        catalogue.get(language) or catalogue.get(language.split("-")[0].lower()) or catalogue["en"]
    )


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render_notification(
    *,
    title: str,
    lines: Sequence[str],
    language: str = "en",
    name: str | None = None,
    school: str | None = None,
    action: tuple[str, str] | None = None,
    unsubscribe: str | None = None,
    reason: str | None = None,
) -> Rendered:
    """A notification as plain text and as HTML: a greeting, the title, its lines, an
    optional button (``action``: its words and its link), and a footer with the
    unsubscribe link (or, without one, ``reason`` it was sent: by default, that account
    notices cannot be turned off).
    Every argument is text, never markup: the HTML escapes it."""
    words = words_for(language)

    def fill(key: str, escape: Callable[[str], str]) -> str:
        values = {"name": escape(name or ""), "school": escape(school or "")}
        return string.Template(words[key]).safe_substitute(values)

    def plain(value: str) -> str:
        return value

    def esc(value: str) -> str:
        return html.escape(value, quote=True)

    greeting = "greeting" if name else "greeting_anonymous"
    sent_by = "sent_by" if school else "sent_by_anonymous"
    text = [fill(greeting, plain), "", one_line(title), "", *lines]
    body = [
        f"<p>{fill(greeting, esc)}</p>",
        f'<h1 style="font-size:1.3em">{esc(one_line(title))}</h1>',
        *(f"<p>{esc(line)}</p>" for line in lines),
    ]
    if action is not None:
        label, link = action
        text += ["", f"{label}: {link}"]
        body += [
            f'<p><a href="{esc(link)}" style="display:inline-block;padding:.6em 1.2em;'
            f'background:#1d4ed8;color:#ffffff;border-radius:6px;text-decoration:none">'
            f"{esc(label)}</a></p>",
            f"<p>{esc(words['copy_link'])}<br>{esc(link)}</p>",
        ]
    text += ["", "--", fill(sent_by, plain)]
    footer = [fill(sent_by, esc)]
    if unsubscribe is not None:
        text += [words["why"], f"{words['unsubscribe']}: {unsubscribe}"]
        footer += [
            esc(words["why"]),
            f'<a href="{esc(unsubscribe)}">{esc(words["unsubscribe"])}</a>',
        ]
    else:
        why = reason if reason is not None else words["cannot_stop"]
        text.append(why)
        footer.append(esc(why))
    body.append(f'<p style="color:#4b5563;font-size:.9em">{"<br>".join(footer)}</p>')
    document = (
        f'<!doctype html><html lang="{esc(language)}"><head><meta charset="utf-8">'
        f"<title>{esc(one_line(title))}</title></head>"
        f'<body style="font-family:sans-serif;line-height:1.5;color:#111827">'
        f"{''.join(body)}</body></html>"
    )
    return Rendered(subject=one_line(title), text="\n".join(text) + "\n", html=document)


# -- sending -----------------------------------------------------------------------------


@dataclass
class _Connection:
    client: aiosmtplib.SMTP
    used_at: float


class Mailer:
    """Sends emails over at most ``connections`` SMTP connections, kept open between sends.

    Every wait is bounded: connecting and each SMTP command by ``timeout``; a send waiting
    for a free connection by ``wait_seconds`` (then ``TemporaryFailure``), so a stuck server
    holds a caller a minute at most, never forever. A fan-out far larger than the pool
    should bound its own concurrency (a consumer's prefetch does) rather than queue here.
    """

    def __init__(
        self,
        server: SmtpServer,
        sender: str,
        *,
        connections: int = 4,
        timeout: float = 10.0,
        wait_seconds: float = 60.0,
        idle_seconds: float = 60.0,
        tls_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.server = server
        self.sender = sender
        self._timeout = timeout
        self._wait_seconds = wait_seconds
        self._idle_seconds = idle_seconds
        self._tls_context = tls_context
        self._clock = clock
        self._slots = asyncio.Semaphore(connections)
        self._idle: list[_Connection] = []
        self.connections_opened = 0
        """How many connections this mailer has opened (for tests and the benchmark)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Mailer | None:
        """The deployment's mailer; None where no mail server is configured. Connects to
        nothing yet: the first send does."""
        url = settings.smtp_url.get_secret_value()
        if not url:
            return None
        server = SmtpServer.parse(url)
        return cls(server, settings.mail_from or f"Schoolgate <schoolgate@{server.host}>")

    @property
    def configured(self) -> bool:
        return True

    async def send(self, message: Message) -> None:
        """Send one message to its recipients; ``TemporaryFailure`` or ``PermanentFailure``."""
        if "From" not in message:
            message["From"] = self.sender
        try:
            async with asyncio.timeout(self._wait_seconds):
                await self._slots.acquire()
        except TimeoutError:
            raise TemporaryFailure("every connection to the mail server stayed busy") from None
        try:
            await self._send_on_a_connection(message)
        finally:
            self._slots.release()

    async def _send_on_a_connection(self, message: Message) -> None:
        connection = self._idle_connection()
        reused = connection is not None
        try:
            if connection is None:
                connection = await self._connect()
            try:
                await self._deliver(connection, message)
            except aiosmtplib.SMTPServerDisconnected:
                if not reused:
                    raise
                # the server closed the connection while it sat idle: once more, afresh. (A
                # drop after the server took the message but before it said so would send
                # it twice: rarer, and kinder, than losing it.)
                await _close(connection)
                connection = None
                connection = await self._connect()
                await self._deliver(connection, message)
        except MailFailure:
            self._keep(connection)  # some recipients refused, the rest accepted
            raise
        except aiosmtplib.SMTPRecipientsRefused as error:
            self._keep(connection)
            raise _classified(error.recipients[0]) from None
        except aiosmtplib.SMTPResponseException as error:
            self._keep(connection)  # the server said no, and reset the envelope: still good
            raise _classified(error) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            if connection is not None:
                await _close(connection)
            raise TemporaryFailure(
                f"the mail server could not be reached: {_kind(error)}"
            ) from None
        except BaseException:
            if connection is not None:
                await _close(connection)  # cancelled mid-conversation: its state is unknown
            raise
        else:
            self._keep(connection)

    def _idle_connection(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()
            fresh = self._clock() - connection.used_at < self._idle_seconds
            if connection.client.is_connected and fresh:
                return connection
            # long idle: most servers have timed it out; not worth a round trip to ask
            connection.client.close()
        return None

    def _keep(self, connection: _Connection | None) -> None:
        if connection is not None and connection.client.is_connected:
            connection.used_at = self._clock()
            self._idle.append(connection)

    async def _connect(self) -> _Connection:
        server = self.server
        client = aiosmtplib.SMTP(
            hostname=server.host,
            port=server.port,
            username=server.username,
            password=server.password,
            use_tls=server.tls == "tls",
            start_tls=server.tls == "starttls",
            tls_context=self._tls_context,
            timeout=self._timeout,
        )
        await client.connect()
        self.connections_opened += 1
        return _Connection(client, self._clock())

    async def _deliver(self, connection: _Connection, message: Message) -> None:
        errors, _ = await connection.client.send_message(message)
        if errors:  # accepted for some recipients, refused for these
            recipient, (code, text) = next(iter(errors.items()))
            raise _classified(aiosmtplib.SMTPRecipientRefused(code, text, recipient))

    async def close(self) -> None:
        """Say goodbye on every idle connection (a server counts a QUIT as a clean end)."""
        idle, self._idle = self._idle, []
        for connection in idle:
            await _close(connection, polite=True)


def _classified(error: aiosmtplib.SMTPResponseException) -> MailFailure:
    summary = f"the mail server answered {error.code}"
    about_the_message = (aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError)
    if isinstance(error, about_the_message) and 500 <= error.code < 600:
        return PermanentFailure(summary, code=error.code)
    # 4xx, or a 5xx about our sender or credentials: nothing the recipient did; an operator
    # fixes it, and the dead-lettered sends are replayed
    return TemporaryFailure(summary)


def _kind(error: BaseException) -> str:
    return type(error).__name__


async def _close(connection: _Connection, *, polite: bool = False) -> None:
    client = connection.client
    if polite and client.is_connected:
        try:
            await client.quit(timeout=2)
            return
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            pass
    client.close()
