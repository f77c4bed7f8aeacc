"""Email against a real SMTP server (aiosmtpd on loopback), read as it arrived."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from email.message import Message

import pytest
from pydantic import SecretStr
from schoolgate_kit.mail import (
    Mailer,
    PermanentFailure,
    SmtpServer,
    TemporaryFailure,
    compose,
    render_notification,
)
from schoolgate_kit.settings import Settings
from schoolgate_kit.testing.smtp import LoopbackSmtp

NOW = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
SENDER = "Schoolgate <schoolgate@elm.example>"


@pytest.fixture
def server() -> Iterator[LoopbackSmtp]:
    with LoopbackSmtp.running() as running:
        yield running


@pytest.fixture
async def mailer(server: LoopbackSmtp) -> AsyncIterator[Mailer]:
    made = Mailer.from_settings(Settings(smtp_url=SecretStr(server.url), mail_from=SENDER))
    assert made is not None
    yield made
    await made.close()


def a_message(to: str, title: str = "Ada got a point", **extra: str) -> Message:
    rendered = render_notification(
        title=title,
        lines=["For kindness, in Oak class."],
        name="Sam",
        school="Elm Road",
        action=("Open Schoolgate", "https://elm.example/#news"),
        unsubscribe=extra.get("unsubscribe"),
    )
    return compose(
        sender=SENDER,
        to=to,
        subject=rendered.subject,
        text=rendered.text,
        html_body=rendered.html,
        now=NOW,
        language="en",
        unsubscribe=extra.get("unsubscribe"),
    )


async def test_a_notification_arrives_with_both_bodies_and_its_headers(
    server: LoopbackSmtp, mailer: Mailer
) -> None:
    unsubscribe = "https://elm.example/api/unsubscribe/abc123"
    await mailer.send(a_message("sam@family.example", unsubscribe=unsubscribe))
    arrived = server.to("sam@family.example")
    assert len(arrived) == 1
    message = arrived[0].message
    assert message["Subject"] == "Ada got a point"
    assert message["From"] == SENDER
    assert message["To"] == "sam@family.example"
    assert message["Date"] == "Mon, 07 Dec 2026 18:00:00 +0000"
    assert message["Message-ID"].endswith("@elm.example>")
    assert message["Content-Language"] == "en"
    assert message.get_content_type() == "multipart/alternative"
    assert message["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = arrived[0].body("plain"), arrived[0].body("html")
    assert "Hello Sam," in text and "For kindness, in Oak class." in text
    assert "Open Schoolgate: https://elm.example/#news" in text
    assert f"Stop these emails: {unsubscribe}" in text
    assert "<h1" in html and "For kindness, in Oak class." in html
    assert '<a href="https://elm.example/#news"' in html
    assert f'<a href="{unsubscribe}">Stop these emails</a>' in html


async def test_an_account_notice_has_no_unsubscribe_and_says_why(
    server: LoopbackSmtp, mailer: Mailer
) -> None:
    await mailer.send(a_message("sam@family.example"))
    arrived = server.to("sam@family.example")[0]
    assert "List-Unsubscribe" not in arrived.message
    assert "always sent" in arrived.body("plain") and "always sent" in arrived.body("html")


async def test_hostile_text_is_escaped_in_html_and_cannot_add_headers(
    server: LoopbackSmtp, mailer: Mailer
) -> None:
    hostile = '<script>alert(1)</script> & "quotes"\r\nBcc: everyone@elsewhere.example'
    rendered = render_notification(title=hostile, lines=[hostile], name="<b>Sam</b>")
    message = compose(
        sender=SENDER,
        to="sam@family.example",
        subject=rendered.subject,
        text=rendered.text,
        html_body=rendered.html,
        now=NOW,
    )
    await mailer.send(message)
    arrived = server.to("sam@family.example")[0]
    assert arrived.rcpt_tos == ("sam@family.example",)
    assert "Bcc" not in arrived.message
    assert "everyone@elsewhere.example" in arrived.message["Subject"]  # text, not a header
    html = arrived.body("html")
    assert "<script>" not in html and "<b>Sam</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;" in html
    assert "Hello &lt;b&gt;Sam&lt;/b&gt;," in html
    assert "<script>alert(1)</script>" in arrived.body("plain")  # plain text is plain


async def test_names_and_subjects_in_any_script_arrive_as_written(
    server: LoopbackSmtp, mailer: Mailer
) -> None:
    rendered = render_notification(
        title="Zoë's class: Ünal got a point ★ " + "and a subject longer than one line " * 3,
        lines=["Çok iyi!"],
    )
    message = compose(
        sender="École Élan <schoolgate@elm.example>",
        to="zoe@family.example",
        to_name='Zoë Ó\'Brien, "Mum"',
        subject=rendered.subject,
        text=rendered.text,
        html_body=rendered.html,
        now=NOW,
    )
    await mailer.send(message)
    arrived = server.to("zoe@family.example")[0]
    assert arrived.message["Subject"] == rendered.subject.strip()
    assert arrived.message["Subject"].startswith("Zoë's class: Ünal got a point ★ and")
    assert arrived.message["From"].addresses[0].display_name == "École Élan"
    to = arrived.message["To"].addresses[0]
    assert (to.display_name, to.addr_spec) == ('Zoë Ó\'Brien, "Mum"', "zoe@family.example")
    assert "Çok iyi!" in arrived.body("plain") and "Çok iyi!" in arrived.body("html")
    with pytest.raises(ValueError):
        compose(
            sender=SENDER,
            to="a@x.example\r\nBcc: b@y.example",
            subject="s",
            text="t",
            html_body="h",
            now=NOW,
        )


async def test_a_language_without_words_falls_back_to_english() -> None:
    rendered = render_notification(title="T", lines=[], language="zz", name="Sam")
    assert rendered.text.startswith("Hello Sam,")


async def test_many_emails_share_a_few_connections(server: LoopbackSmtp) -> None:
    mailer = Mailer(SmtpServer.parse(server.url), SENDER, connections=3)
    try:
        await asyncio.gather(
            *(mailer.send(a_message(f"parent{i}@family.example")) for i in range(60))
        )
    finally:
        await mailer.close()
    assert len(server.arrived) == 60
    assert server.connections <= 3
    assert mailer.connections_opened == server.connections


async def test_a_bounce_is_permanent_a_deferral_temporary_and_the_connection_stays(
    server: LoopbackSmtp, mailer: Mailer
) -> None:
    server.bounce("gone@family.example")
    server.defer("busy@family.example")
    with pytest.raises(PermanentFailure) as bounced:
        await mailer.send(a_message("gone@family.example"))
    assert bounced.value.code == 550
    assert "gone@family.example" not in str(bounced.value)  # loggable as it is
    with pytest.raises(TemporaryFailure):
        await mailer.send(a_message("busy@family.example"))
    await mailer.send(a_message("sam@family.example"))
    assert len(server.to("sam@family.example")) == 1
    assert server.to("gone@family.example") == [] == server.to("busy@family.example")
    assert server.connections == 1  # a refusal is an answer, not a broken connection


async def test_after_the_server_closed_the_connection_the_next_send_reconnects(
    server: LoopbackSmtp, mailer: Mailer
) -> None:
    await mailer.send(a_message("sam@family.example"))
    server.drop_connections()
    await mailer.send(a_message("sam@family.example"))
    assert len(server.to("sam@family.example")) == 2
    assert server.connections == 2


async def test_no_server_listening_is_a_temporary_failure(server: LoopbackSmtp) -> None:
    url = server.url
    server.stop()
    mailer = Mailer(SmtpServer.parse(url), SENDER, timeout=2)
    with pytest.raises(TemporaryFailure):
        await mailer.send(a_message("sam@family.example"))


def test_no_smtp_url_means_no_mailer_and_the_url_is_read_with_care() -> None:
    assert Mailer.from_settings(Settings()) is None
    parsed = SmtpServer.parse("smtp://me%40x:p%2Fss@mail.example:2525?tls=none")
    assert (parsed.host, parsed.port, parsed.tls) == ("mail.example", 2525, "none")
    assert (parsed.username, parsed.password) == ("me@x", "p/ss")
    assert SmtpServer.parse("smtp://mail.example").tls == "starttls"
    assert SmtpServer.parse("smtp://mail.example:465").tls == "tls"
    with pytest.raises(ValueError):
        SmtpServer.parse("smtp://mail.example?tls=maybe")
    # the password never shows in the settings' text
    settings = Settings(smtp_url=SecretStr("smtp://u:hunter22@mail.example"))
    assert "hunter22" not in repr(settings)


async def test_a_send_waits_for_a_busy_pool_only_so_long(server: LoopbackSmtp) -> None:
    mailer = Mailer(SmtpServer.parse(server.url), SENDER, connections=1, wait_seconds=0.2)
    await mailer._slots.acquire()  # the one connection busy with a send that never ends
    with pytest.raises(TemporaryFailure, match="busy"):
        await mailer.send(a_message("sam@family.example"))
    mailer._slots.release()
    await mailer.send(a_message("sam@family.example"))
    await mailer.close()
    assert len(server.to("sam@family.example")) == 1
