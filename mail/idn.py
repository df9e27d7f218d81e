"""Internationalized domain names: the one place a Unicode name becomes its ASCII form.

DNS, TLS (SNI, certificate names) and SMTP commands all need the ASCII ("punycode")
form: "пример.рф" → "xn--e1afmkfd.xn--p1ai". Conversion follows UTS #46 (what browsers
and mail clients do: full-width letters and upper case mapped first).
"""

from __future__ import annotations

import idna

__all__ = ["ascii_domain", "unicode_domain"]


def ascii_domain(name: str) -> str:
    """``name`` in ASCII, lower case.

    Raises ``ValueError`` (``idna.IDNAError`` is one) for a name IDNA refuses (an empty
    label, a label over 63 characters …), ASCII names included.
    """
    try:
        return idna.encode(name, uts46=True).decode("ascii").lower()
    except UnicodeError as exc:  # a label too long for punycode
        raise ValueError(str(exc)) from None


def unicode_domain(name: str) -> str:
    """``name`` with its "xn--" labels shown in Unicode (for storing and display)."""
    return ".".join(
        idna.decode(label) if label.startswith("xn--") else label for label in name.split(".")
    )
