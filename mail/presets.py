"""Mail-service presets, kept as data (``providers.json``) that a deployment may replace.

A deployment points ``MAILTAB_PROVIDERS_FILE`` at its own JSON file of the same
shape; entries it lists replace the shipped ones code by code, so a file that
only corrects the Tradesoft host is enough.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from i18n import Lang, Text
from mail.security import Security, resolve_security

__all__ = ["PresetError", "ProviderCode", "ProviderPreset", "load_presets", "provider_for_address"]


class ProviderCode(StrEnum):
    GOOGLE = "GOOGLE"
    MAIL_RU = "MAIL_RU"
    OUTLOOK = "OUTLOOK"
    RAMBLER = "RAMBLER"
    TRADESOFT = "TRADESOFT"
    YANDEX = "YANDEX"
    OTHER = "OTHER"


class PresetError(ValueError):
    """A providers file that cannot be used."""


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

    @property
    def security(self) -> Security | None:
        if self.port is None:
            return None
        return resolve_security(use_ssl=self.use_ssl, port=self.port)

    def title_in(self, lang: Lang) -> str:
        return self.title(lang)


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
        )
    except PresetError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise PresetError(
            f"{source}: bad provider entry ({exc.__class__.__name__}: {exc})"
        ) from None


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
