"""What a push carries: small, same-origin, and a Retry-After read either way it is written."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from schoolgate_kit.settings import Settings
from schoolgate_notifications.push import (
    MAX_PAYLOAD_BYTES,
    PushMessage,
    PushSender,
    VapidKeys,
    b64url,
    b64url_decode,
    parse_retry_after,
)

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_a_long_message_is_shortened_to_fit_one_push() -> None:
    # control characters take six bytes each in JSON: a body cut to length is still too big
    message = PushMessage("Announcement", "\u0001" * 4000, "/#news", "announcement-1")
    data = message.encode()
    assert len(data) <= MAX_PAYLOAD_BYTES
    decoded = json.loads(data)
    assert decoded["title"] == "Announcement" and decoded["body"].endswith("…")
    assert decoded["tag"] == "announcement-1"


def test_a_short_message_is_sent_as_written_without_a_tag_when_none() -> None:
    assert json.loads(PushMessage("Hi", "Ada got 3 points", "/").encode()) == {
        "title": "Hi",
        "body": "Ada got 3 points",
        "url": "/",
    }


@pytest.mark.parametrize(
    "url", ["https://evil.example/", "//evil.example/", "javascript:x", "/\\evil"]
)
def test_a_push_only_opens_a_path_of_the_app(url: str) -> None:
    with pytest.raises(ValueError, match="path of the app"):
        PushMessage("t", "b", url)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        ("999999", 3600.0),
        ("Mon, 07 Dec 2026 09:00:30 GMT", 30.0),
        ("Mon, 07 Dec 2026 08:00:00 GMT", 0.0),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_is_seconds_or_a_date_and_bounded(
    header: str | None, seconds: float | None
) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


@pytest.mark.parametrize("text", ["a+b/", "ab==cd", "ab cd", "é"])
def test_base64url_refuses_other_alphabets(text: str) -> None:
    with pytest.raises(ValueError, match="base64url"):
        b64url_decode(text)


def test_base64url_round_trips_with_or_without_padding() -> None:
    raw = bytes(range(20))
    assert b64url_decode(b64url(raw)) == raw == b64url_decode(b64url(raw) + "====")


@pytest.mark.parametrize("contact", ["office@demo.school", "mailto:nobody", "http://demo.school"])
def test_the_push_contact_setting_is_a_mailto_or_https_address(contact: str) -> None:
    with pytest.raises(ValidationError, match="push_contact"):
        Settings(push_contact=contact)
    assert Settings(push_contact="mailto:office@demo.school").push_contact


@pytest.mark.parametrize("subject", ["", "office@demo.school", "http://demo.school"])
def test_pushes_are_never_signed_without_a_contact(subject: str) -> None:
    keys = VapidKeys.generate()
    with pytest.raises(ValueError, match="mailto: or https:"):
        PushSender(keys, subject=subject)
