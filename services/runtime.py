"""What the service holds for its lifetime: settings, presets, and the stateful helpers."""

from __future__ import annotations

from dataclasses import dataclass, field

from config import Settings
from mail.presets import ProviderCode, ProviderPreset, load_presets
from mail.resolver import DnsResolver
from oauth.clients import OAuthClient, configured_clients
from oauth.tokens import TokenStore
from services.ratelimit import REFUSALS_NAMESPACE, RateLimiter
from services.secrets import PasswordBox, load_password_box

__all__ = ["Runtime", "build_runtime"]


@dataclass
class Runtime:
    settings: Settings
    presets: dict[ProviderCode, ProviderPreset]
    box: PasswordBox
    limiter: RateLimiter
    refusals: RateLimiter
    """Refused presses of Send, per token (the same storage as ``limiter``)."""
    dns: DnsResolver
    """MX and SRV look-ups of provider detection (MAILTAB_DNS_*), with their cache."""
    oauth_clients: dict[ProviderCode, OAuthClient] = field(default_factory=dict)
    """The providers whose mailboxes can be connected with OAuth2 here."""
    oauth_tokens: TokenStore = field(init=False, repr=False)
    """Access tokens of the OAuth2 connections, refreshed one at a time."""

    def __post_init__(self) -> None:
        self.oauth_tokens = TokenStore(self.box)


def build_runtime(settings: Settings) -> Runtime:
    presets = load_presets(settings.providers_file, tradesoft_host=settings.tradesoft_smtp_host)
    redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
    limiter = RateLimiter(settings.test_email_rate_limit, redis_url)
    box = load_password_box(settings)
    return Runtime(
        settings=settings,
        presets=presets,
        box=box,
        limiter=limiter,
        refusals=limiter.another(
            settings.test_email_refusal_rate_limit, namespace=REFUSALS_NAMESPACE
        ),
        dns=DnsResolver(nameservers=settings.dns_nameservers, timeout=settings.dns_timeout),
        oauth_clients=configured_clients(presets, settings),
    )
