"""Guess the mail service and its submission server from an address, as account wizards do.

Three sources, most certain first:

1. ``DOMAIN``: the address's domain is in a preset's ``domains`` (gmail.com,
   yandex.ru, ...). No network at all.
2. ``MX``: a company domain whose MX hosts match a preset's ``mx`` patterns
   (Google Workspace, Yandex 360, Mail.ru for business, Microsoft 365); the
   suggestion is that preset's server, or the one its MX rule names.
3. ``SRV``: the domain publishes its submission server (RFC 6186/8314):
   ``_submissions._tcp`` (implicit TLS, preferred) or ``_submission._tcp``
   (STARTTLS). A target of "." says the service is not offered.

Nothing found is ``NONE`` with provider OTHER. The DNS look-ups run together
and the whole detection is bounded by the resolver's timeout: a resolver that
is down or silent gives ``NONE`` (``dns_unavailable``) in about that time,
never an exception. The address is expected to be validated already (the
service layer does it, as for the form); anything without a usable domain
simply matches nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, TypeVar

from mail.errors import DnsUnavailable
from mail.idn import ascii_domain
from mail.presets import MxRule, ProviderCode, ProviderPreset
from mail.resolver import MxRecord, SrvRecord
from mail.security import Security, resolve_security

__all__ = ["DetectionSource", "MailDns", "Suggestion", "detect_provider", "mail_domain"]

#: Longest domain name DNS can carry (RFC 1035), in its ASCII form.
MAX_DOMAIN_LENGTH = 253

_Record = TypeVar("_Record", MxRecord, SrvRecord)

#: The SRV services of RFC 8314 and RFC 6186, in the order RFC 8314 asks clients to prefer.
_SRV_SERVICES: tuple[tuple[str, Security], ...] = (
    ("_submissions._tcp", Security.SSL_TLS),
    ("_submission._tcp", Security.STARTTLS),
)


class DetectionSource(StrEnum):
    DOMAIN = "DOMAIN"
    """The address's domain is in a provider's domain list."""
    MX = "MX"
    """The domain's MX hosts belong to a provider's company mail."""
    SRV = "SRV"
    """The domain publishes its submission server in SRV records."""
    NONE = "NONE"
    """Nothing matched (or DNS could not be asked)."""


class MailDns(Protocol):
    """What detection needs from DNS (``mail.resolver.DnsResolver``)."""

    @property
    def timeout(self) -> float: ...

    async def mx(self, domain: str) -> tuple[MxRecord, ...]: ...

    async def srv(self, name: str) -> tuple[SrvRecord, ...]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Suggestion:
    """What to fill in for an address; host, port and security are None when nothing is known."""

    provider: ProviderCode
    detected_by: DetectionSource
    smtp_host: str | None
    port: int | None
    security: Security | None
    mx_hosts: tuple[str, ...] = ()
    """The MX hosts looked up, most preferred first (lower case, no trailing dot)."""
    dns_unavailable: bool = False
    """A look-up got no answer in time, so the suggestion may miss what DNS would have told."""


async def detect_provider(
    address: str,
    *,
    presets: Mapping[ProviderCode, ProviderPreset],
    resolver: MailDns,
) -> Suggestion:
    """The suggestion for ``address``: domain lists, then MX, then SRV; never raises for DNS."""
    domain = mail_domain(address)
    if domain is None:
        return _nothing()
    preset = _by_domain(presets, domain, address)
    if preset is not None:
        return _from_preset(preset, DetectionSource.DOMAIN, rule=None, mx_hosts=())
    return await _from_dns(domain, presets=presets, resolver=resolver)


def mail_domain(address: str) -> str | None:
    """The address's domain as DNS sees it (punycode, lower case, no trailing dot), or None.

    None for an address without a domain, with an address literal ("[192.0.2.1]"),
    or with a name IDNA refuses or DNS cannot hold.
    """
    domain = address.rpartition("@")[2].strip().rstrip(".")
    if not domain or domain.startswith("["):
        return None
    try:
        ipaddress.ip_address(domain)
    except ValueError:
        pass
    else:
        return None
    try:
        name = ascii_domain(domain)
    except ValueError:
        return None
    if len(name) > MAX_DOMAIN_LENGTH or "." not in name:
        return None
    return name


async def _from_dns(
    domain: str, *, presets: Mapping[ProviderCode, ProviderPreset], resolver: MailDns
) -> Suggestion:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + resolver.timeout
    # All three look-ups start at once: the SRV answers are ready when MX matches nothing.
    mx_task = asyncio.ensure_future(resolver.mx(domain))
    srv_tasks = [
        asyncio.ensure_future(resolver.srv(f"{service}.{domain}")) for service, _ in _SRV_SERVICES
    ]
    try:
        mx_records, mx_failed = await _outcome(mx_task, deadline=deadline)
        mx_hosts = tuple(record.host for record in mx_records)
        matched = _by_mx(presets, mx_hosts)
        if matched is not None:
            preset, rule = matched
            return _from_preset(preset, DetectionSource.MX, rule=rule, mx_hosts=mx_hosts)
        srv_failed = False
        for (_service, security), task in zip(_SRV_SERVICES, srv_tasks, strict=True):
            records, failed = await _outcome(task, deadline=deadline)
            srv_failed = srv_failed or failed
            record = _usable_srv(records)
            if record is not None:
                return _from_srv(
                    record, security, presets=presets, mx_hosts=mx_hosts, dns_unavailable=mx_failed
                )
        return _nothing(mx_hosts=mx_hosts, dns_unavailable=mx_failed or srv_failed)
    finally:
        for pending in (mx_task, *srv_tasks):
            pending.cancel()
        await asyncio.gather(mx_task, *srv_tasks, return_exceptions=True)


async def _outcome(
    task: asyncio.Future[tuple[_Record, ...]], *, deadline: float
) -> tuple[tuple[_Record, ...], bool]:
    """A look-up's records and whether it failed (no answer by the deadline counts as failed)."""
    try:
        async with asyncio.timeout_at(deadline):
            return await asyncio.shield(task), False
    except (DnsUnavailable, TimeoutError):
        return (), True


def _by_domain(
    presets: Mapping[ProviderCode, ProviderPreset], domain: str, address: str
) -> ProviderPreset | None:
    # A deployment's list may spell an IDN domain either way: punycode or Unicode.
    unicode_domain = address.rpartition("@")[2].strip().rstrip(".").lower()
    for preset in presets.values():
        if preset.code is not ProviderCode.OTHER and (
            domain in preset.domains or unicode_domain in preset.domains
        ):
            return preset
    return None


def _by_mx(
    presets: Mapping[ProviderCode, ProviderPreset], mx_hosts: Sequence[str]
) -> tuple[ProviderPreset, MxRule] | None:
    """The first MX host (most preferred first) that a preset's rule claims."""
    for host in mx_hosts:
        for preset in presets.values():
            if preset.code is ProviderCode.OTHER:
                continue
            for rule in preset.mx_rules:
                if rule.matches(host):
                    return preset, rule
    return None


def _usable_srv(records: Sequence[SrvRecord]) -> SrvRecord | None:
    # RFC 6186 §3.4: a target of "." means the service is decidedly not offered.
    for record in records:
        if record.target and 0 < record.port < 65536:
            return record
    return None


def _from_preset(
    preset: ProviderPreset,
    source: DetectionSource,
    *,
    rule: MxRule | None,
    mx_hosts: tuple[str, ...],
) -> Suggestion:
    host, port, use_ssl = preset.smtp_host, preset.port, preset.use_ssl
    if rule is not None and rule.smtp_host is not None and rule.port is not None:
        host, port = rule.smtp_host, rule.port
        use_ssl = rule.use_ssl if rule.use_ssl is not None else preset.use_ssl
    return Suggestion(
        provider=preset.code,
        detected_by=source,
        smtp_host=host,
        port=port,
        security=resolve_security(use_ssl=use_ssl, port=port) if port is not None else None,
        mx_hosts=mx_hosts,
    )


def _from_srv(
    record: SrvRecord,
    security: Security,
    *,
    presets: Mapping[ProviderCode, ProviderPreset],
    mx_hosts: tuple[str, ...],
    dns_unavailable: bool,
) -> Suggestion:
    # A domain may point its SRV record at a provider's own server (smtp.yandex.ru).
    provider = next(
        (
            preset.code
            for preset in presets.values()
            if preset.code is not ProviderCode.OTHER
            and (preset.smtp_host or "").lower() == record.target
        ),
        ProviderCode.OTHER,
    )
    return Suggestion(
        provider=provider,
        detected_by=DetectionSource.SRV,
        smtp_host=record.target,
        port=record.port,
        security=security,
        mx_hosts=mx_hosts,
        dns_unavailable=dns_unavailable,
    )


def _nothing(*, mx_hosts: tuple[str, ...] = (), dns_unavailable: bool = False) -> Suggestion:
    return Suggestion(
        provider=ProviderCode.OTHER,
        detected_by=DetectionSource.NONE,
        smtp_host=None,
        port=None,
        security=None,
        mx_hosts=mx_hosts,
        dns_unavailable=dns_unavailable,
    )
