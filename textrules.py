"""Which characters may stand in text a person reads or a protocol parses: one set of rules.

Used wherever text comes in or goes out: form fields (services), letter headers (mail),
a server's reply shown to the user (mail.redact) and log lines (web). The sets:

- controls: C0 (CR, LF, NUL, tab …), DEL and C1 (NEL …) — they break lines and protocols;
- separators: U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR — line breaks too;
- surrogates: lone surrogate code points, which cannot be encoded as UTF-8;
- bidi: the explicit bidirectional overrides, embeddings and isolates and a stray byte
  order mark, which make text show other than it is ("spoofing").

Other format characters (zero-width joiners) are allowed: names in several scripts and
emoji need them. RFC 2047 encoded-words ("=?utf-8?b?…?=") are refused in displayed text
and addresses: the mail library decodes them into headers, where a decoded line break
would forge one (CVE-2024-6923; see mail.letter).
"""

from __future__ import annotations

import re

__all__ = [
    "ENCODED_WORD",
    "has_encoded_word",
    "has_forbidden_characters",
    "replace_controls",
]

_CONTROLS = "\x00-\x08\x0a-\x1f\x7f-\x9f"  # the tab is added (or not) below
_SEPARATORS = "\u2028\u2029"
_SURROGATES = "\ud800-\udfff"
_BIDI = "\u202a-\u202e\u2066-\u2069\ufeff"


def _characters(*, tab: bool, bidi: bool) -> re.Pattern[str]:
    return re.compile(
        f"[{_CONTROLS}{'' if tab else chr(9)}{_SEPARATORS}{_SURROGATES}{_BIDI if not bidi else ''}]"
    )


_REFUSED = {
    (tab, bidi): _characters(tab=tab, bidi=bidi) for tab in (False, True) for bidi in (False, True)
}

#: The start of an RFC 2047 encoded-word as the standard library's header parser reads
#: one: any charset (also with an RFC 2231 "*language"), B or Q. The end is left open on
#: purpose: the parser also decodes whitespace inside, and "=?cs?q?=41..." without a
#: closing "?=", swallowing the rest of the header.
ENCODED_WORD = re.compile(r"=\?[^?]*\?[bq]\?", re.IGNORECASE)

_CONTROL_RUN = re.compile("[\x00-\x1f\x7f-\x9f]")


def has_forbidden_characters(
    value: str, *, allow_tab: bool = False, allow_bidi: bool = False
) -> bool:
    """Whether ``value`` holds a control, separator, lone surrogate or bidi character.

    ``allow_tab`` lets the tab through; ``allow_bidi`` the bidi set, for text that is
    never displayed (a password).
    """
    return _REFUSED[(allow_tab, allow_bidi)].search(value) is not None


def has_encoded_word(text: str) -> bool:
    """Whether ``text`` holds (the start of) an RFC 2047 encoded-word, ``=?charset?b|q?``.

    The mail library would decode it; no real name or address contains one. Text
    with "=?" or "?=" that does not start an encoded-word ("Что =? не так") passes.
    """
    return ENCODED_WORD.search(text) is not None


def replace_controls(text: str, replacement: str = " ", *, keep: str = "") -> str:
    """``text`` with every control character (but those in ``keep``) replaced."""
    return _CONTROL_RUN.sub(lambda m: m.group() if m.group() in keep else replacement, text)
