"""Answers that only change with the deployment, kept per request text, role and language.

``mailProviders`` is built from the presets loaded at start-up: the same request from the
same role in the same language always gets the same bytes. Such an answer is kept after it
has been produced once (a query, no error, HTTP 200), and the same request is answered from
here without running GraphQL again. The key is the request as sent (the POST body or
GET's query string, byte for byte), the token's *role* and the negotiated language, so
roles and languages never mix; never the token itself. The request is authenticated and
its body checked before the cache is asked, as any other request. At most
``MAX_RESPONSES`` answers are kept (the oldest dropped); a restart empties the cache,
which is when presets change.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

__all__ = [
    "CONSTANT_FIELDS",
    "MAX_RESPONSES",
    "CachedAnswer",
    "ResponseCache",
    "cache_hints",
    "cache_key",
]

#: Root fields whose answer depends on the deployment only (and the role and language).
CONSTANT_FIELDS = frozenset({"mailProviders", "__typename"})
MAX_RESPONSES = 256
#: How long a browser may reuse such an answer fetched over GET (a persisted query's URL).
BROWSER_SECONDS = 300

CacheKey = tuple[str, str, str, bytes]


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    body: bytes
    operation: str
    """The root field, for the request's log line and metrics."""
    operation_name: str | None


def cache_hints(method: str) -> dict[str, str]:
    """HTTP cache headers for a kept answer: over GET the browser may reuse it for a while.

    ``private``: a shared cache (a CDN, a proxy) must not store an answer to a request with
    a token; ``Vary`` keeps languages and tokens apart in the browser's cache too.
    """
    if method != "GET":
        return {}
    return {
        "cache-control": f"private, max-age={BROWSER_SECONDS}",
        "vary": "Authorization, Accept-Language",
    }


def cache_key(*, method: str, request: bytes, role: str, lang: str) -> CacheKey:
    return (method, role, lang, request)


class ResponseCache:
    """A bounded LRU map from ``cache_key`` to the answer's bytes."""

    def __init__(self, *, max_entries: int = MAX_RESPONSES) -> None:
        self.max_entries = max_entries
        self._answers: OrderedDict[CacheKey, CachedAnswer] = OrderedDict()

    def get(self, key: CacheKey) -> CachedAnswer | None:
        answer = self._answers.get(key)
        if answer is not None:
            self._answers.move_to_end(key)
        return answer

    def keep(
        self,
        key: CacheKey,
        *,
        body: bytes,
        operation: str,
        operation_type: str | None,
        operation_name: str | None,
    ) -> bool:
        """Keep an answer if its operation may be kept; whether it was."""
        if operation_type != "query" or operation not in CONSTANT_FIELDS:
            return False
        self._answers[key] = CachedAnswer(body, operation, operation_name)
        self._answers.move_to_end(key)
        while len(self._answers) > self.max_entries:
            self._answers.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._answers)
