"""SMTP security modes: how the seed's single "Use SSL" box maps to the three real ones."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from i18n import Text

__all__ = [
    "IMPLICIT_TLS_PORTS",
    "ModeProblem",
    "Security",
    "check_mode",
    "mode_field",
    "resolve_security",
]

#: Ports where a server expects a TLS ClientHello before any SMTP greeting.
IMPLICIT_TLS_PORTS = frozenset({465})
#: Ports where a server greets in plain text and upgrades with STARTTLS (or not at all).
PLAIN_GREETING_PORTS = frozenset({25, 587})


class Security(StrEnum):
    SSL_TLS = "SSL_TLS"
    """Implicit TLS: the connection is encrypted from its first byte (port 465)."""
    STARTTLS = "STARTTLS"
    """A plain greeting, then a mandatory STARTTLS upgrade before login (port 587)."""
    NONE = "NONE"
    """No encryption at all."""


def resolve_security(*, use_ssl: bool, port: int, explicit: Security | None = None) -> Security:
    """The mode a form means: an explicit mode wins; else the box and the port decide."""
    if explicit is not None:
        return explicit
    if not use_ssl:
        return Security.NONE
    return Security.SSL_TLS if port in IMPLICIT_TLS_PORTS else Security.STARTTLS


def use_ssl_for(security: Security) -> bool:
    """The seed's checkbox as it should be shown for a mode."""
    return security is not Security.NONE


def mode_field(*, explicit: bool, box_at_fault: bool) -> str:
    """The input field to blame when the security mode and the port do not fit together.

    The one rule for every such problem, found before connecting or by the server's
    answer: ``security`` when the mode was chosen explicitly; else the "Use SSL" box
    when ticking (or unticking) it is the fix (``box_at_fault``), else the port.
    """
    if explicit:
        return "security"
    return "useSsl" if box_at_fault else "port"


@dataclass(frozen=True, slots=True)
class ModeProblem:
    """A security mode and port that are known to hang or fail, with the field to change."""

    field: str
    message: Text


def check_mode(security: Security, port: int, *, explicit: bool) -> ModeProblem | None:
    """Refuse the combinations that cannot work before anything connects.

    The field named is the one the administrator most likely has to change
    (``mode_field``).
    """
    if port in IMPLICIT_TLS_PORTS and security is not Security.SSL_TLS:
        return ModeProblem(
            mode_field(explicit=explicit, box_at_fault=True),
            Text(
                ru=f"Порт {port} требует SSL: включите «Использовать SSL» или укажите порт 587.",
                en=f"Port {port} needs SSL: tick Use SSL or use port 587.",
            ),
        )
    if port in PLAIN_GREETING_PORTS and security is Security.SSL_TLS:
        return ModeProblem(
            mode_field(explicit=explicit, box_at_fault=False),
            Text(
                ru=f"На порту {port} SSL включается командой STARTTLS, а не сразу: "
                "укажите порт 465 или режим STARTTLS.",
                en=f"Port {port} upgrades to TLS with STARTTLS, not at once: "
                "use port 465 or the STARTTLS mode.",
            ),
        )
    return None
