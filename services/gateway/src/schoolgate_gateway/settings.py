from __future__ import annotations

from schoolgate_kit.settings import Settings


class GatewaySettings(Settings):
    host: str = "127.0.0.1"
    port: int = 8000
    points_url: str = "http://127.0.0.1:8001"
    roster_url: str = "http://127.0.0.1:8002"
    consent_url: str = "http://127.0.0.1:8003"
    stories_url: str = "http://127.0.0.1:8004"
    public_base_url: str = "http://localhost:8000"
    sign_in_attempts_per_account: int = 10
    sign_in_attempts_per_address: int = 60
    code_attempts_per_address: int = 30
    sign_in_window_seconds: float = 900
    staff_setup_link_days: int = 7
    class_code_hours: int = 12
    live_keepalive_seconds: float = 15.0
    live_queue_limit: int = 256
    """News a live page may have waiting before the oldest is dropped (and it refetches)."""
