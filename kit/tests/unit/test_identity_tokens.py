"""Identity tokens are checked against the verifier's own clock, which tests inject: a
token made by a gateway whose clock says next week is good to a service whose clock says
next week too, and refused by one whose clock says now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from schoolgate_kit.identity import Identity, Role, sign, verify
from schoolgate_kit.problems import Unauthenticated

SECRET = "identity-test-secret-" + "q" * 30
ADA = Identity(subject="parent-1", role=Role.parent, school_id="s1")


def test_a_token_made_next_week_is_good_to_a_clock_that_says_next_week() -> None:
    next_week = datetime.now(UTC) + timedelta(days=7)
    token = sign(ADA, secret=SECRET, now=next_week, ttl=timedelta(minutes=5))
    assert verify(token, secret=SECRET, now=next_week + timedelta(seconds=30)) == ADA


def test_a_token_issued_after_the_verifiers_now_is_refused() -> None:
    now = datetime.now(UTC)
    token = sign(ADA, secret=SECRET, now=now + timedelta(minutes=10), ttl=timedelta(minutes=5))
    with pytest.raises(Unauthenticated, match="future"):
        verify(token, secret=SECRET, now=now)


def test_an_expired_token_is_refused() -> None:
    now = datetime.now(UTC)
    token = sign(ADA, secret=SECRET, now=now - timedelta(minutes=10), ttl=timedelta(minutes=5))
    with pytest.raises(Unauthenticated, match="expired"):
        verify(token, secret=SECRET, now=now)
