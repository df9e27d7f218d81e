"""Automatic persisted queries (Apollo's protocol): a query sent once, then by its hash.

A request may carry ``extensions.persistedQuery = {"version": 1, "sha256Hash": "<hex>"}``:

- with ``query`` as well: the hash must be the SHA-256 of that text
  (``PERSISTED_QUERY_HASH_MISMATCH`` otherwise, HTTP 400); the text is kept under its hash;
- without ``query``: the text kept under that hash is run, or the client gets
  ``PERSISTED_QUERY_NOT_FOUND`` (HTTP 200, as Apollo's link expects) and sends it again
  with the text.

Over GET too (Apollo's ``useGETForHashedQueries``), so a hashed query can be a plain,
cacheable URL; mutations still never run over GET (Strawberry refuses them once the text
is put back). The text, once found, goes through everything any request goes through:
the token was checked before (``web.graphql``), then parsing, the limits, validation.
Texts are kept in memory, at most ``MAX_QUERIES`` of them and ``MAX_BYTES`` in all, the
least recently used dropped first.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from enum import StrEnum
from typing import Any

from i18n import Text

__all__ = [
    "MAX_BYTES",
    "MAX_QUERIES",
    "MESSAGES",
    "PersistedQueries",
    "PersistedQueryCode",
    "PersistedQueryRefused",
    "resolve",
]

MAX_QUERIES = 512
MAX_BYTES = 2 * 1024 * 1024
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")


class PersistedQueryCode(StrEnum):
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
    PERSISTED_QUERY_UNSUPPORTED = "PERSISTED_QUERY_UNSUPPORTED"


MESSAGES: dict[PersistedQueryCode, Text] = {
    # Apollo's link looks for this exact message or the code; the code is ours to translate.
    PersistedQueryCode.PERSISTED_QUERY_NOT_FOUND: Text(
        ru="PersistedQueryNotFound", en="PersistedQueryNotFound"
    ),
    PersistedQueryCode.PERSISTED_QUERY_HASH_MISMATCH: Text(
        ru="sha256Hash в extensions.persistedQuery не совпадает с SHA-256 текста query.",
        en="extensions.persistedQuery.sha256Hash is not the SHA-256 of the query text.",
    ),
    PersistedQueryCode.PERSISTED_QUERY_UNSUPPORTED: Text(
        ru="extensions.persistedQuery: поддерживается version 1 с sha256Hash из 64 "
        "шестнадцатеричных цифр.",
        en="extensions.persistedQuery: version 1 with a sha256Hash of 64 hex digits is supported.",
    ),
}

#: HTTP status per refusal.
STATUS = {
    PersistedQueryCode.PERSISTED_QUERY_NOT_FOUND: 200,
    PersistedQueryCode.PERSISTED_QUERY_HASH_MISMATCH: 400,
    PersistedQueryCode.PERSISTED_QUERY_UNSUPPORTED: 400,
}


class PersistedQueryRefused(Exception):
    def __init__(self, code: PersistedQueryCode) -> None:
        super().__init__(code.value)
        self.code = code
        self.status = STATUS[code]


class PersistedQueries:
    """Query texts by SHA-256, bounded by count and by total size (LRU)."""

    def __init__(self, *, max_queries: int = MAX_QUERIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_queries = max_queries
        self.max_bytes = max_bytes
        self._texts: OrderedDict[str, str] = OrderedDict()
        self._bytes = 0

    def get(self, sha256: str) -> str | None:
        text = self._texts.get(sha256)
        if text is not None:
            self._texts.move_to_end(sha256)
        return text

    def keep(self, sha256: str, text: str) -> None:
        size = len(text)
        if sha256 in self._texts or size > self.max_bytes:
            return
        self._texts[sha256] = text
        self._bytes += size
        while len(self._texts) > self.max_queries or self._bytes > self.max_bytes:
            _, dropped = self._texts.popitem(last=False)
            self._bytes -= len(dropped)

    def __len__(self) -> int:
        return len(self._texts)


def _hashed(extensions: Any) -> str | None:
    """The requested hash (lower case), None without ``persistedQuery``; refuses a bad one."""
    if not isinstance(extensions, dict) or "persistedQuery" not in extensions:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, dict):
        raise PersistedQueryRefused(PersistedQueryCode.PERSISTED_QUERY_UNSUPPORTED)
    sha256 = persisted.get("sha256Hash")
    if persisted.get("version") != 1 or not isinstance(sha256, str):
        raise PersistedQueryRefused(PersistedQueryCode.PERSISTED_QUERY_UNSUPPORTED)
    sha256 = sha256.lower()
    if not _HEX_SHA256.fullmatch(sha256):
        raise PersistedQueryRefused(PersistedQueryCode.PERSISTED_QUERY_UNSUPPORTED)
    return sha256


def resolve(query: Any, extensions: Any, store: PersistedQueries) -> str | None:
    """The query text to run for a request's ``query`` and ``extensions``.

    None when the request does not use persisted queries (nothing to change); raises
    ``PersistedQueryRefused`` when it uses them wrongly or the hash is unknown.
    """
    sha256 = _hashed(extensions)
    if sha256 is None:
        return None
    if isinstance(query, str) and query:
        actual = hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest()
        if actual != sha256:
            raise PersistedQueryRefused(PersistedQueryCode.PERSISTED_QUERY_HASH_MISMATCH)
        store.keep(sha256, query)
        return query
    if query is not None and not isinstance(query, str):
        return None  # not a text: Strawberry refuses it as any malformed request
    text = store.get(sha256)
    if text is None:
        raise PersistedQueryRefused(PersistedQueryCode.PERSISTED_QUERY_NOT_FOUND)
    return text
