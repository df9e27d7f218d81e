"""Mail-service presets, kept as data (``providers.json``) that a deployment may replace.

A deployment points ``MAILTAB_PROVIDERS_FILE`` at its own JSON file of the same
shape; entries it lists replace the shipped ones code by code, so a file that
only corrects the Tradesoft host is enough.

Besides the server settings an entry carries what an administrator must know
before the first try (``status`` and a ``checklist`` of steps in the mailbox)
and the MX hosts that tell a company domain served by the provider (``mx``:
host patterns, optionally with the submission server such domains use, e.g.
Microsoft 365 behind Outlook). Every field is checked on load, so a broken
deployment file stops the start-up with its name and the reason.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from i18n import Text
from mail.errors import PresetError
from mail.security import Security, resolve_security

__all__ = [
    "ChecklistItem",
    "MailProviderStatus",
    "MxRule",
    "OAuth2Endpoints",
    "ProviderCode",
    "ProviderPreset",
    "load_presets",
    "provider_for_address",
]


class ProviderCode(StrEnum):
    GOOGLE = "GOOGLE"
    MAIL_RU = "MAIL_RU"
    OUTLOOK = "OUTLOOK"
    RAMBLER = "RAMBLER"
    TRADESOFT = "TRADESOFT"
    YANDEX = "YANDEX"
    OTHER = "OTHER"


class MailProviderStatus(StrEnum):
    """What it takes before a password login from this service can work."""

    OK = "OK"
    """Nothing to prepare: the mailbox password (or the server's own rules) will do."""
    PREPARATION = "PREPARATION"
    """Steps in the mailbox first (mail-client access, 2-Step Verification, an app password)."""
    OAUTH2_ONLY = "OAUTH2_ONLY"
    """The provider takes no password login at all: only OAuth2 (XOAUTH2) signs in."""


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One step to take in the mailbox before the first try; ``url`` opens the page for it."""

    text: Text
    url: str | None = None
    oauth2: bool | None = None
    """Shown only where OAuth2 sign-in is set up (True) or only where it is not (False);
    None: always (``oauth2`` in the JSON entry: ``"available"`` / ``"unavailable"``)."""

    def shown(self, *, oauth2_available: bool) -> bool:
        return self.oauth2 is None or self.oauth2 is oauth2_available


@dataclass(frozen=True, slots=True)
class MxRule:
    """MX host patterns of a provider's company mail, and the submission server they mean.

    A pattern is a host name in lower case whose labels may hold ``*`` for any
    run of characters within that label (``alt*.aspmx.l.google.com``,
    ``*.mail.protection.outlook.com``); it never spans a dot. ``smtp_host`` and
    ``port`` (with ``use_ssl``) replace the preset's server where the company
    service submits elsewhere; None keeps the preset's.
    """

    patterns: tuple[str, ...]
    smtp_host: str | None = None
    port: int | None = None
    use_ssl: bool | None = None

    def matches(self, host: str) -> bool:
        """Whether an MX host (lower case, no trailing dot) is one of the patterns."""
        return any(_pattern_regex(pattern).fullmatch(host) for pattern in self.patterns)


@dataclass(frozen=True, slots=True)
class OAuth2Endpoints:
    """Where a provider signs a mailbox in with OAuth2 (authorization code flow + PKCE).

    ``authorization_params`` go into the authorization URL as they are (Google's
    ``access_type=offline`` and ``prompt=consent``, so that a refresh token is issued);
    ``revocation_url`` is the RFC 7009 endpoint where the provider offers one.
    """

    authorization_url: str
    token_url: str
    scopes: tuple[str, ...]
    revocation_url: str | None = None
    authorization_params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ProviderPreset:
    code: ProviderCode
    title: Text
    smtp_host: str | None
    port: int | None
    use_ssl: bool
    app_password_help_url: str | None
    domains: tuple[str, ...]
    rejects_foreign_sender: bool = False
    password_login_disabled: bool = False
    status: MailProviderStatus = MailProviderStatus.OK
    checklist: tuple[ChecklistItem, ...] = ()
    mx_rules: tuple[MxRule, ...] = ()
    oauth2: OAuth2Endpoints | None = None

    @property
    def security(self) -> Security | None:
        if self.port is None:
            return None
        return resolve_security(use_ssl=self.use_ssl, port=self.port)


def _parse(entry: Mapping[str, Any], source: str) -> ProviderPreset:
    try:
        code = ProviderCode(entry["code"])
        title = entry["title"]
        host = entry.get("smtpHost")
        port = entry.get("port")
        if code is not ProviderCode.OTHER and (not isinstance(host, str) or not host):
            raise PresetError(f"{source}: {code}: smtpHost is required")
        if port is not None and (not isinstance(port, int) or not 1 <= port <= 65535):
            raise PresetError(f"{source}: {code}: port must be 1..65535")
        if code is not ProviderCode.OTHER and port is None:
            raise PresetError(f"{source}: {code}: port is required")
        return ProviderPreset(
            code=code,
            title=Text(ru=str(title["ru"]), en=str(title["en"])),
            smtp_host=host,
            port=port,
            use_ssl=bool(entry.get("useSsl", False)),
            app_password_help_url=entry.get("appPasswordHelpUrl"),
            domains=tuple(str(d).lower() for d in entry.get("domains", ())),
            rejects_foreign_sender=bool(entry.get("rejectsForeignSender", False)),
            password_login_disabled=bool(entry.get("passwordLoginDisabled", False)),
            status=_status(entry.get("status", MailProviderStatus.OK), f"{source}: {code}"),
            checklist=_checklist(entry.get("checklist", []), f"{source}: {code}"),
            mx_rules=_mx_rules(entry.get("mx", []), f"{source}: {code}"),
            oauth2=_oauth2(entry.get("oauth2"), f"{source}: {code}: oauth2"),
        )
    except PresetError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise PresetError(
            f"{source}: bad provider entry ({exc.__class__.__name__}: {exc})"
        ) from None


def _status(value: object, where: str) -> MailProviderStatus:
    if isinstance(value, str) and value in MailProviderStatus.__members__:
        return MailProviderStatus(value)
    raise PresetError(f"{where}: status must be one of {', '.join(MailProviderStatus)}")


def _checklist(value: object, where: str) -> tuple[ChecklistItem, ...]:
    if not isinstance(value, list):
        raise PresetError(f"{where}: checklist must be a list")
    items: list[ChecklistItem] = []
    for position, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            raise PresetError(f"{where}: checklist item {position} must be an object")
        text = item.get("text")
        if not isinstance(text, dict) or not all(
            isinstance(text.get(lang), str) and text[lang].strip() for lang in ("ru", "en")
        ):
            raise PresetError(f"{where}: checklist item {position} needs text in ru and en")
        items.append(
            ChecklistItem(
                text=Text(ru=text["ru"], en=text["en"]),
                url=_help_url(item.get("url"), f"{where}: checklist item {position}"),
                oauth2=_when_oauth2(item.get("oauth2"), f"{where}: checklist item {position}"),
            )
        )
    return tuple(items)


def _when_oauth2(value: object, where: str) -> bool | None:
    if value is None:
        return None
    if value not in ("available", "unavailable"):
        raise PresetError(f'{where}: oauth2 must be "available" or "unavailable"')
    return value == "available"


def _help_url(value: object, where: str) -> str | None:
    if value is None:
        return None
    # Shown to the user as a link: https only, with a host, no spaces or controls.
    if not isinstance(value, str) or any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise PresetError(f"{where}: url must be an https:// address or null")
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise PresetError(f"{where}: url must be an https:// address or null")
    return value


def _mx_rules(value: object, where: str) -> tuple[MxRule, ...]:
    if not isinstance(value, list):
        raise PresetError(f"{where}: mx must be a list")
    rules: list[MxRule] = []
    for position, rule in enumerate(value, start=1):
        here = f"{where}: mx rule {position}"
        if not isinstance(rule, dict):
            raise PresetError(f"{here} must be an object")
        hosts = rule.get("hosts")
        if not isinstance(hosts, list) or not hosts:
            raise PresetError(f"{here}: hosts must be a non-empty list")
        patterns = tuple(_mx_pattern(host, here) for host in hosts)
        smtp_host = rule.get("smtpHost")
        port = rule.get("port")
        use_ssl = rule.get("useSsl")
        if smtp_host is not None and (not isinstance(smtp_host, str) or not smtp_host.strip()):
            raise PresetError(f"{here}: smtpHost must be a host name")
        if port is not None and (
            isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535
        ):
            raise PresetError(f"{here}: port must be 1..65535")
        if use_ssl is not None and not isinstance(use_ssl, bool):
            raise PresetError(f"{here}: useSsl must be true or false")
        if (smtp_host is None) != (port is None) or (use_ssl is not None and port is None):
            # A server without its port (or a port without its server) would mix two services.
            raise PresetError(f"{here}: smtpHost and port go together")
        rules.append(MxRule(patterns, smtp_host, port, use_ssl))
    return tuple(rules)


_LOOPBACK_NAMES = ("127.0.0.1", "::1", "localhost")


def _endpoint(value: object, where: str) -> str:
    """An https:// address (http:// only on loopback, for a provider run locally)."""
    if not isinstance(value, str) or any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise PresetError(f"{where} must be an https:// address")
    parts = urlsplit(value)
    secure = parts.scheme == "https" or (
        parts.scheme == "http" and parts.hostname in _LOOPBACK_NAMES
    )
    if not secure or not parts.hostname or parts.fragment:
        raise PresetError(f"{where} must be an https:// address")
    return value


def _oauth2(value: object, where: str) -> OAuth2Endpoints | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise PresetError(f"{where} must be an object or null")
    scopes = value.get("scopes")
    if (
        not isinstance(scopes, list)
        or not scopes
        or not all(isinstance(s, str) and s and not any(c.isspace() for c in s) for s in scopes)
    ):
        raise PresetError(f"{where}: scopes must be a non-empty list of scope names")
    params = value.get("authorizationParams", {})
    if not isinstance(params, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in params.items()
    ):
        raise PresetError(f"{where}: authorizationParams must map names to strings")
    revocation = value.get("revocationUrl")
    return OAuth2Endpoints(
        authorization_url=_endpoint(value.get("authorizationUrl"), f"{where}: authorizationUrl"),
        token_url=_endpoint(value.get("tokenUrl"), f"{where}: tokenUrl"),
        scopes=tuple(scopes),
        revocation_url=None
        if revocation is None
        else _endpoint(revocation, f"{where}: revocationUrl"),
        authorization_params=tuple(params.items()),
    )


_MX_PATTERN = re.compile(r"(?:[a-z0-9*](?:[a-z0-9*-]*[a-z0-9*])?\.)+[a-z0-9-]*[a-z0-9]")


def _mx_pattern(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise PresetError(f"{where}: hosts must be strings")
    pattern = value.strip().lower().rstrip(".")
    # The last label stays literal: "*" there (or a pattern of "*" alone) would claim any domain.
    if not _MX_PATTERN.fullmatch(pattern) or "*" in pattern.rpartition(".")[2]:
        raise PresetError(f"{where}: bad MX host pattern {value!r}")
    return pattern


@functools.lru_cache(maxsize=256)
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(
        ".".join(re.escape(label).replace(r"\*", "[^.]*") for label in pattern.split("."))
    )


def _read(text: str, source: str) -> dict[ProviderCode, ProviderPreset]:
    try:
        document = json.loads(text)
        entries = document["providers"]
    except (ValueError, KeyError, TypeError) as exc:
        raise PresetError(f"{source}: not a providers file ({exc})") from None
    if not isinstance(entries, list):
        raise PresetError(f"{source}: 'providers' must be a list")
    presets = [_parse(entry, source) for entry in entries]
    return {preset.code: preset for preset in presets}


def load_presets(
    override_file: Path | None = None, *, tradesoft_host: str | None = None
) -> dict[ProviderCode, ProviderPreset]:
    """The shipped presets, overlaid with a deployment's file and Tradesoft host, in enum order."""
    shipped = resources.files("mail").joinpath("providers.json").read_text(encoding="utf-8")
    presets = _read(shipped, "providers.json")
    if override_file is not None:
        try:
            text = override_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise PresetError(f"{override_file}: {exc.strerror}") from None
        presets.update(_read(text, str(override_file)))
    if tradesoft_host:
        current = presets[ProviderCode.TRADESOFT]
        presets[ProviderCode.TRADESOFT] = replace(current, smtp_host=tradesoft_host)
    missing = [code for code in ProviderCode if code not in presets]
    if missing:
        raise PresetError(f"providers missing: {', '.join(missing)}")
    return {code: presets[code] for code in ProviderCode}


def provider_for_address(
    presets: Mapping[ProviderCode, ProviderPreset], address: str
) -> ProviderPreset | None:
    """The preset whose domains include the address's domain, if any."""
    domain = address.rpartition("@")[2].lower()
    for preset in presets.values():
        if domain in preset.domains:
            return preset
    return None
