from __future__ import annotations

from schoolgate_kit.settings import Settings


class GatewaySettings(Settings):
    points_url: str = "http://127.0.0.1:8001"
    sign_in_attempts_per_account: int = 10
    sign_in_attempts_per_address: int = 60
    sign_in_window_seconds: float = 900
