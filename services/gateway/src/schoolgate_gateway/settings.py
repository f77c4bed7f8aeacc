from __future__ import annotations

from pydantic import Field
from schoolgate_kit.settings import Settings


class GatewaySettings(Settings):
    host: str = "127.0.0.1"
    port: int = 8000
    points_url: str = "http://127.0.0.1:8001"
    roster_url: str = "http://127.0.0.1:8002"
    consent_url: str = "http://127.0.0.1:8003"
    stories_url: str = "http://127.0.0.1:8004"
    messaging_url: str = "http://127.0.0.1:8005"
    notifications_url: str = "http://127.0.0.1:8006"
    public_base_url: str = "http://localhost:8000"
    stories_upload_max_bytes: int = Field(
        default=50 * 1024 * 1024,
        ge=1024,
        description="The largest upload (a photo or document, a roster file) the gateway"
        " passes on; the service behind it checks its own limit too. Every other request"
        " body is held to SCHOOLGATE_BODY_LIMIT_BYTES.",
    )
    private_store_url: str = Field(
        default="",
        description="sqlite:///path or mongodb://...: accounts, sessions, codes and limits,"
        " shared by every replica; default: data_dir/private.db",
    )
    sign_in_attempts_per_account: int = Field(
        default=10,
        ge=1,
        description="Wrong passwords for one account from browsers it has not signed in from.",
    )
    sign_in_attempts_per_device: int = Field(
        default=10,
        ge=1,
        description="Wrong passwords from one known browser, or one address for one account.",
    )
    sign_in_attempts_per_address: int = Field(default=60, ge=1)
    second_factor_attempts: int = Field(
        default=5, ge=1, description="Wrong second-factor codes per account per window."
    )
    code_attempts_per_address: int = Field(default=30, ge=1)
    sign_in_window_seconds: float = Field(default=900, gt=0)
    device_cookie_days: int = Field(default=365, ge=1)
    pupil_card_days: int = Field(
        default=365, ge=1, le=730, description="How long a printed sign-in card works."
    )
    staff_setup_link_days: int = 7
    password_reset_minutes: int = Field(
        default=30, ge=5, le=24 * 60, description="How long a password reset link works (once)."
    )
    password_resets_per_email: int = Field(
        default=3,
        ge=1,
        description="Reset emails one address may be sent per sign-in window: nobody can"
        " fill a stranger's inbox from the forgotten-password page.",
    )
    password_resets_per_address: int = Field(
        default=10, ge=1, description="Reset requests from one address per sign-in window."
    )
    class_code_hours: int = 12
    board_code_minutes: int = Field(
        default=10,
        ge=1,
        le=60,
        description="How long a class board's pairing code works (once) after it is shown.",
    )
    board_session_hours: int = Field(
        default=12,
        ge=1,
        le=24,
        description="How long a paired class board shows its class: a school day; the next"
        " day the teacher pairs it again.",
    )
    live_keepalive_seconds: float = 15.0
    live_queue_limit: int = 256
    """News a live page may have waiting before the oldest is dropped (and it refetches)."""

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure unless families reach Schoolgate over plain HTTP, where a
        browser would never send a Secure cookie back (a school trying it out on its own
        network): a real deployment's public address is https."""
        return not self.public_base_url.startswith("http://")

    def private_store_location(self) -> str:
        return self.private_store_url or f"sqlite:///{self.data_dir / 'private.db'}"
