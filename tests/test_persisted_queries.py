"""Automatic persisted queries: by hash over POST and GET, refused when wrong, gated as any.

The last test drives Apollo Client's own ``PersistedQueryLink`` (npm, tests/apollo/) with
``useGETForHashedQueries`` against a running ``mailtab serve``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from web.persisted_queries import PersistedQueries

PROVIDERS = "query Providers { mailProviders { code } }"
APOLLO = Path(__file__).parent / "apollo"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _hashed(text: str, *, with_text: bool) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": _sha(text)}}
    }
    if with_text:
        payload["query"] = text
    return payload


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def _post(http: httpx.AsyncClient, token: str | None, payload: Any) -> httpx.Response:
    return await http.post("/graphql", json=payload, headers=_auth(token))


async def _get(
    http: httpx.AsyncClient, token: str | None, payload: dict[str, Any]
) -> httpx.Response:
    params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in payload.items()}
    return await http.get("/graphql", params=params, headers=_auth(token))


def _code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


async def test_an_unknown_hash_asks_for_the_text_then_the_hash_is_enough(
    anonymous: httpx.AsyncClient, admin_token: str
) -> None:
    text = "query Seen { mailProviders { code title } }"
    missing = await _post(anonymous, admin_token, _hashed(text, with_text=False))
    assert missing.status_code == 200
    assert _code(missing) == "PERSISTED_QUERY_NOT_FOUND"
    assert missing.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    full = await _post(anonymous, admin_token, _hashed(text, with_text=True))
    assert full.status_code == 200 and "errors" not in full.json()
    by_post = await _post(anonymous, admin_token, _hashed(text, with_text=False))
    by_get = await _get(anonymous, admin_token, _hashed(text, with_text=False))
    assert by_post.json() == by_get.json() == full.json()


async def test_a_hash_that_is_not_the_texts_is_refused(
    anonymous: httpx.AsyncClient, admin_token: str
) -> None:
    payload = _hashed("{ __typename }", with_text=False)
    payload["query"] = "{ mailProviders { code } }"
    refused = await _post(anonymous, admin_token, payload)
    assert refused.status_code == 400
    assert _code(refused) == "PERSISTED_QUERY_HASH_MISMATCH"
    # Nothing was kept under the hash that was sent.
    again = await _post(anonymous, admin_token, _hashed("{ __typename }", with_text=False))
    assert _code(again) == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    "persisted",
    [{"version": 2, "sha256Hash": "0" * 64}, {"version": 1, "sha256Hash": "xyz"}, "nope"],
)
async def test_other_versions_and_malformed_hashes_are_refused(
    anonymous: httpx.AsyncClient, admin_token: str, persisted: Any
) -> None:
    payload = {"query": "{ __typename }", "extensions": {"persistedQuery": persisted}}
    refused = await _post(anonymous, admin_token, payload)
    assert refused.status_code == 400
    assert _code(refused) == "PERSISTED_QUERY_UNSUPPORTED"


async def test_a_hashed_request_needs_a_token(
    anonymous: httpx.AsyncClient, admin_token: str
) -> None:
    await _post(anonymous, admin_token, _hashed(PROVIDERS, with_text=True))
    for send in (_post, _get):
        refused = await send(anonymous, None, _hashed(PROVIDERS, with_text=False))
        assert refused.status_code == 401
        assert _code(refused) == "UNAUTHENTICATED"


async def test_a_hashed_mutation_never_runs_over_get(
    anonymous: httpx.AsyncClient, admin_token: str
) -> None:
    mutation = 'mutation { sendTestEmail(input: {recipient: "x"}) { delivered } }'
    stored = await _post(anonymous, admin_token, _hashed(mutation, with_text=True))
    assert stored.status_code == 200
    refused = await _get(anonymous, admin_token, _hashed(mutation, with_text=False))
    assert refused.status_code == 405
    assert _code(refused) == "METHOD_NOT_ALLOWED"


async def test_the_limits_apply_to_a_hashed_query(
    anonymous: httpx.AsyncClient, admin_token: str
) -> None:
    deep = "{ firms { outlets { firm { outlets { firm { outlets { firm { outlets { firm { outlets { firm { id } } } } } } } } } } } }"
    first = await _post(anonymous, admin_token, _hashed(deep, with_text=True))
    assert "errors" in first.json()
    # Refused by validation, so the text may be kept; by hash it is refused the same way.
    again = await _post(anonymous, admin_token, _hashed(deep, with_text=False))
    assert again.json()["errors"][0]["message"] == first.json()["errors"][0]["message"]


def test_the_store_is_bounded_by_count_and_size() -> None:
    store = PersistedQueries(max_queries=3, max_bytes=100)
    for index in range(5):
        store.keep(f"{index:064x}", "{ __typename }")
    assert len(store) == 3
    assert store.get(f"{0:064x}") is None
    store.keep("f" * 64, "x" * 101)  # larger than everything allowed: not kept
    assert store.get("f" * 64) is None
    store.keep("e" * 64, "y" * 90)
    assert len(store) == 1 and store.get("e" * 64) == "y" * 90


def _apollo_ready() -> bool:
    return shutil.which("node") is not None


@contextlib.contextmanager
def _serving(data_dir: Path) -> Iterator[tuple[str, str]]:
    """``mailtab serve`` on a fresh data folder: its /graphql URL and first-start token."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILTAB_")}
    env["MAILTAB_DATA_DIR"] = str(data_dir)
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--port", str(port)],
        cwd=Path(__file__).parent.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        token = ""
        for line in process.stdout:  # the token is printed before the server listens
            if re.fullmatch(r"mt_[A-Za-z0-9_-]+", line.strip()):
                token = line.strip()
                break
        for _ in range(600):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/graphql", token
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()


@pytest.mark.skipif(not _apollo_ready(), reason="node is not installed")
def test_apollo_clients_persisted_query_link_over_get(tmp_path: Path) -> None:
    if not (APOLLO / "node_modules" / "@apollo" / "client").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],  # noqa: S607
            cwd=APOLLO,
            check=True,
            capture_output=True,
            timeout=300,
        )
    with _serving(tmp_path) as (url, token):
        assert token
        run = subprocess.run(
            ["node", "apq.mjs", url, token],  # noqa: S607
            cwd=APOLLO,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
    result = json.loads(run.stdout)
    assert result["first"] == result["second"]
    assert {p["code"] for p in result["first"]["mailProviders"]} >= {"GOOGLE", "YANDEX"}
    assert result["mutation"]["sendTestEmail"]["errors"]
    steps = [
        (r["method"], r["hasQueryText"], r["hasHash"], r["status"]) for r in result["requests"]
    ]
    assert steps == [
        ("GET", False, True, 200),  # the hash alone: not found yet
        ("POST", True, True, 200),  # Apollo sends it again with the text
        ("GET", False, True, 200),  # from now on the hash is enough
        ("POST", False, True, 200),  # a mutation: POST, hash first
        ("POST", True, True, 200),
    ]
    assert "PERSISTED_QUERY_NOT_FOUND" in result["requests"][0]["body"]
    assert "PERSISTED_QUERY_NOT_FOUND" not in result["requests"][2]["body"]
