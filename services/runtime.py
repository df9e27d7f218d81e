"""What the service holds for its lifetime: settings, presets, and the stateful helpers."""

from __future__ import annotations

from dataclasses import dataclass

from config import Settings
from mail.presets import ProviderCode, ProviderPreset, load_presets
from services.ratelimit import RateLimiter
from services.secrets import PasswordBox, load_password_box

__all__ = ["Runtime", "build_runtime"]


@dataclass
class Runtime:
    settings: Settings
    presets: dict[ProviderCode, ProviderPreset]
    box: PasswordBox
    limiter: RateLimiter


def build_runtime(settings: Settings) -> Runtime:
    presets = load_presets(settings.providers_file, tradesoft_host=settings.tradesoft_smtp_host)
    redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
    return Runtime(
        settings=settings,
        presets=presets,
        box=load_password_box(settings),
        limiter=RateLimiter(settings.test_email_rate_limit, redis_url),
    )
