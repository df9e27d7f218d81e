"""A server's words made safe to show: secrets, AUTH payloads and controls cut out, capped.

A reply may quote what the client sent (a misconfigured server, a proxy that echoes);
every form the password could take there is removed: as typed, in the AUTH PLAIN and
LOGIN payloads, spaced out, reversed, in hex, in base64 of those.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence, Set
from dataclasses import dataclass, field

from textrules import replace_controls

__all__ = ["MAX_REPLY_LENGTH", "Redactor", "redact_reply"]

#: Longest server reply passed on; real replies are a line or two.
MAX_REPLY_LENGTH = 500


def redact_reply(text: str, *, secrets: Sequence[str], username: str | None = None) -> str:
    """A server's text safe to show: secrets and AUTH payloads cut out, controls dropped, capped."""
    return Redactor.of(secrets=secrets, username=username).redact(text)


@dataclass(frozen=True, slots=True)
class Redactor:
    """``redact_reply`` for one conversation's secrets, their forms worked out once.

    A conversation redacts every reply of the server (nine or so per letter) with the same
    secrets: the variants and shapes below are computed once for all of them.
    """

    variants: tuple[re.Pattern[str], ...] = field(repr=False)
    lowered: tuple[str, ...] = field(repr=False)
    shapes: frozenset[str] = field(repr=False)

    @classmethod
    def of(cls, *, secrets: Sequence[str], username: str | None = None) -> Redactor:
        variants = sorted(_secret_variants(secrets, username), key=len, reverse=True)
        return cls(
            variants=tuple(re.compile(re.escape(v), flags=re.IGNORECASE) for v in variants),
            lowered=tuple(variant.lower() for variant in variants),
            shapes=frozenset(_secret_shapes(secrets, username)),
        )

    def redact(self, text: str) -> str:
        """``text`` safe to show (see ``redact_reply``)."""
        # Controls go first: turning them into spaces must not be able to re-form a secret.
        text = replace_controls(text, " ", keep="\n")
        # An AUTH command echoed back ("unrecognized command: AUTH PLAIN AGFk...") carries
        # the credentials whatever the password is.
        text = _AUTH_PAYLOAD.sub(r"\1***", text)
        for variant in self.variants:
            text = variant.sub("***", text)
        low = text.lower()
        if any(variant in low for variant in self.lowered):
            # A secret that survives its own removal (a password of asterisks): drop it all.
            return ""
        text = _cut_shapes(text, self.shapes)
        remaining = _shape(text)
        if any(shape in remaining for shape in self.shapes):
            return ""  # re-formed around a cut: nothing of this reply can be trusted
        text = text.strip()
        if len(text) > MAX_REPLY_LENGTH:
            text = text[: MAX_REPLY_LENGTH - 1].rstrip() + "…"
        return text


#: SASL mechanism names (RFC 4422 registry, the usual ones): an EHLO reply lists them after
#: AUTH ("250-AUTH PLAIN LOGIN"), which is an offer, not a payload.
_MECHANISMS = (
    r"(?:PLAIN|LOGIN|CRAM-MD5|DIGEST-MD5|XOAUTH2|OAUTHBEARER|GSSAPI|NTLM|EXTERNAL|ANONYMOUS"
    r"|SCRAM-SHA-1(?:-PLUS)?|SCRAM-SHA-256(?:-PLUS)?)"
)
_AUTH_PAYLOAD = re.compile(rf"(?i)(\bAUTH\s+[A-Z0-9_-]+\s+)(?!{_MECHANISMS}(?:\s|$))\S+")


def _shape(text: str) -> str:
    """Letters and digits only, lowercased: a form with anything put between its characters
    ("p a s s", "p-a-s-s", a hex dump "70 61 73 73", "\\x70\\x61") has the same shape."""
    return "".join(map(str.lower, filter(str.isalnum, text)))


def _secret_shapes(secrets: Sequence[str], username: str | None) -> set[str]:
    """The shapes of each secret as typed, reversed and in hex (of its UTF-8 bytes, also
    written "\\xd0…" or "0xD0 …"), and of the base64 of those and of the AUTH payloads."""
    shapes: set[str] = set()
    user = (username or "").encode("utf-8")
    for secret in secrets:
        if not secret:
            continue
        raw = secret.encode("utf-8")
        backwards = secret[::-1].encode("utf-8")
        hexed = raw.hex()
        texts = [
            secret,
            secret[::-1],
            hexed,
            "".join(f"x{byte:02x}" for byte in raw),
            "".join(f"0x{byte:02x}" for byte in raw),
        ]
        for form in (raw, backwards, hexed.encode("ascii"), b"\0" + user + b"\0" + raw):
            texts.append(base64.b64encode(form).decode("ascii"))
        shapes.update(_shape(text) for text in texts)
    return {shape for shape in shapes if shape}


def _cut_shapes(text: str, shapes: Set[str]) -> str:
    """``text`` with every stretch whose letters and digits spell one of ``shapes`` cut out.

    Matched on the shape of the text (linear, no backtracking whatever the password),
    then mapped back: the stretch from the first to the last character of the match
    goes, separators between them included.
    """
    if not shapes:
        return text
    letters: list[str] = []
    positions: list[int] = []
    for index, ch in enumerate(text):
        if ch.isalnum():
            low = ch.lower()
            letters.append(low)
            positions.extend([index] * len(low))
    flat = "".join(letters)
    cuts: list[tuple[int, int]] = []
    for shape in shapes:
        start = flat.find(shape)
        while start != -1:
            cuts.append((positions[start], positions[start + len(shape) - 1] + 1))
            start = flat.find(shape, start + 1)
    if not cuts:
        return text
    cuts.sort()
    pieces: list[str] = []
    kept_from = 0
    for begin, end in cuts:
        if end <= kept_from:
            continue  # inside a stretch already cut
        if begin > kept_from:
            pieces.append(text[kept_from:begin])
        if not pieces or pieces[-1] != "***":
            pieces.append("***")
        kept_from = max(kept_from, end)
    pieces.append(text[kept_from:])
    return "".join(pieces)


def _secret_variants(secrets: Sequence[str], username: str | None) -> set[str]:
    variants: set[str] = set()
    user = (username or "").encode("utf-8")
    for secret in secrets:
        if not secret:
            continue
        raw = secret.encode("utf-8")
        # The password as such, and as AUTH LOGIN / AUTH PLAIN put it on the wire.
        forms = [raw, b"\0" + user + b"\0" + raw, user + b"\0" + raw]
        variants.add(secret)
        for form in forms:
            for encoded in (base64.b64encode(form), base64.urlsafe_b64encode(form)):
                text = encoded.decode("ascii")
                variants.update({text, text.rstrip("=")})
    return {v for v in variants if v}
