"""The notifications service's settings: where links in emails and pushes point, and who
push services should contact about this deployment."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from schoolgate_kit.settings import Settings

from schoolgate_notifications.timing import Limits


class NotificationsSettings(Settings):
    public_base_url: str = Field(
        default="http://localhost:8000",
        description="The address families open Schoolgate at: links in emails point there.",
    )
    push_most: int = Field(default=5, ge=1, le=100, description="Pushes per window, per person.")
    push_window_seconds: float = Field(default=600, ge=0, le=86_400)
    push_gap_seconds: float = Field(
        default=60, ge=0, le=3600, description="The least time between two pushes to a person."
    )
    notifications_flush_every_seconds: float = Field(default=15.0, gt=0, le=3600)
    allow_loopback_push: bool = Field(
        default=False,
        description="Accept push subscriptions whose endpoint is on this machine: for tests"
        " and benchmarks with a loopback push service, never in production.",
    )

    @property
    def push_limits(self) -> Limits:
        return Limits(
            most=self.push_most,
            window=timedelta(seconds=self.push_window_seconds),
            gap=timedelta(seconds=self.push_gap_seconds),
        )

    @property
    def vapid_subject(self) -> str:
        """Whom push services may contact (RFC 8292): ``push_contact``, else the public
        address when it is https. A school on plain http (a trial on one machine) signs with
        an address that reaches nobody; Apple's push service refuses those, so the README
        says to set SCHOOLGATE_PUSH_CONTACT."""
        if self.push_contact:
            return self.push_contact
        if self.public_base_url.startswith("https://"):
            return self.public_base_url
        return "mailto:schoolgate@localhost.invalid"
