"""The invite letter, printed or emailed: the code, a QR code to scan (or, by email, a link
to follow), and what to do with them."""

from __future__ import annotations

from datetime import datetime
from email.message import Message
from html import escape
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from schoolgate_kit.mail import compose, render_notification

from schoolgate_consent.adapters.qr import qr_svg
from schoolgate_consent.domain import show_code


def join_url(public_base_url: str, code: str) -> str:
    return f"{public_base_url.rstrip('/')}/join?{urlencode({'code': code})}"


def _until(expires_at: datetime, timezone: str) -> str:
    local = expires_at.astimezone(ZoneInfo(timezone))
    return f"{local:%A} {local.day} {local:%B %Y}"


def letter_email(
    *,
    code: str,
    child: str,
    expires_at: datetime,
    public_base_url: str,
    timezone: str,
    sender: str,
    to: str,
    now: datetime,
) -> Message:
    """The letter as an email: the same words, a button instead of the QR code."""
    url = join_url(public_base_url, code)
    rendered = render_notification(
        title="Join Schoolgate",
        lines=[
            f"This email invites a parent or carer of {child} to join the school on"
            " Schoolgate, to see their news, points and photos and to message their teacher.",
            f"Your code: {show_code(code)}",
            f"The code works once, until {_until(expires_at, timezone)}. Keep it private:"
            " whoever uses it joins as a parent or carer of this child. If it has expired or"
            " been lost, ask the school office for a new one.",
        ],
        action=("Join with this code", url),
        reason="A member of staff of your child's school sent you this letter.",
    )
    return compose(
        sender=sender,
        to=to,
        subject=rendered.subject,
        text=rendered.text,
        html_body=rendered.html,
        now=now,
    )


def letter_html(
    *, code: str, child: str, expires_at: datetime, public_base_url: str, timezone: str
) -> str:
    url = join_url(public_base_url, code)
    until = _until(expires_at, timezone)
    join_page = escape(f"{public_base_url.rstrip('/')}/join")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Join Schoolgate: invitation for a parent or carer of {escape(child)}</title>
<style>
  body {{ font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto;
         padding: 0 1rem; line-height: 1.5; color: #111; }}
  .code {{ font: 700 2rem/1.2 ui-monospace, monospace; letter-spacing: .15em; }}
  figure {{ margin: 1.5rem 0; }}
  @media print {{ body {{ margin: 0 auto; }} }}
</style>
</head>
<body>
<main>
<h1>Join Schoolgate</h1>
<p>This letter invites a parent or carer of <strong>{escape(child)}</strong> to join the
school on Schoolgate, to see their news, points and photos and to message their teacher.</p>
<h2>Your code</h2>
<p class="code" aria-label="Invite code">{escape(show_code(code))}</p>
<figure>
{qr_svg(url, title="QR code that opens the join page with this code")}
<figcaption>Scan this with your phone's camera, or go to <strong>{join_page}</strong>
and type the code.</figcaption>
</figure>
<p>The code works <strong>once</strong>, until <strong>{escape(until)}</strong>. Keep it
private: whoever uses it joins as a parent or carer of this child. If it has expired or
been lost, ask the school office for a new one.</p>
</main>
</body>
</html>
"""
