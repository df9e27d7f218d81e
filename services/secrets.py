"""Passwords at rest: Fernet encryption under rotatable keys.

Keys come from ``MAILTAB_SECRET_KEY`` (comma-separated; the first encrypts,
all decrypt). On the embedded default with no key configured, a key file is
created once in the data folder with owner-only permissions; its path is
logged, never its content. ``rotate`` (and ``rotate_oauth_tokens``, for the OAuth2
connections' tokens) re-encrypts every stored password under
the newest key, so older keys can then be dropped.

A key is never replaced behind the operator's back: with the key file gone while the
database still holds passwords, ``load_password_box`` refuses (``KeyLost``) instead of
making a new one; ``check_stored_passwords`` tells at start-up whether the configured keys
open what is stored, and a password no key opens is logged (by account id) where it is
needed and reported as unreadable, so that it is entered again.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from config import ConfigError, Settings
from models import EmailAccount
from models.db import count_stored_passwords
from oauth import tokens as oauth_tokens
from services.errors import KeyLost

__all__ = [
    "KEY_FILE_NAME",
    "KeyCheck",
    "PasswordBox",
    "add_key_to_file",
    "check_stored_passwords",
    "key_file_path",
    "load_password_box",
    "rotate",
    "rotate_oauth_tokens",
]

log = logging.getLogger("mailtab.secrets")
KEY_FILE_NAME = "secret.key"
#: How many of the most recent stored passwords the start-up check tries to open: enough to
#: tell a wrong key, few enough that a database of many accounts does not slow the start.
CHECK_SAMPLE = 200
#: Ciphertexts whose readability ``PasswordBox.readable`` remembers.
READABLE_CACHE = 4096


class PasswordBox:
    """Encrypts and decrypts mailbox passwords; never prints them.

    ``reload`` (the embedded key file) is read again when no known key opens a
    password: ``mailtab rotate-key`` may have put a new key first while this
    process was running, and it must not need a restart to read what was rotated.
    """

    def __init__(self, keys: list[str], *, reload: Callable[[], list[str]] | None = None) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._keys = list(keys)
        self._fernet = MultiFernet([Fernet(key) for key in keys])
        self._reload = reload
        # Digest of a ciphertext -> whether a key opens it; emptied when the keys change.
        self._readable: dict[bytes, bool] = {}

    def _refresh(self) -> bool:
        """Take the key file's keys if they changed; whether they did."""
        if self._reload is None:
            return False
        try:
            keys = self._reload()
        except (OSError, ConfigError):
            return False
        if not keys or keys == self._keys:
            return False
        self._keys = keys
        self._fernet = MultiFernet([Fernet(key) for key in keys])
        self._readable.clear()
        return True

    def __repr__(self) -> str:
        return "PasswordBox(<keys hidden>)"

    def encrypt(self, password: str) -> str:
        return self._fernet.encrypt(password.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str, *, account_id: int | None = None) -> str | None:
        """The password, or None when no configured key opens it (logged, never the token)."""
        password = self._open(token)
        self._remember(token, password is not None)
        if password is None:
            log.warning(
                "the stored password of email account %s cannot be decrypted with the "
                "configured keys: it must be entered again (or the old key restored)",
                account_id if account_id is not None else "-",
            )
        return password

    def readable(self, token: str) -> bool:
        """Whether a configured key opens ``token``; remembered, so that reads stay cheap."""
        key = _fingerprint(token)
        known = self._readable.get(key)
        if known is None:
            known = self._open(token) is not None
            self._remember(token, known)
        return known

    def _open(self, token: str) -> str | None:
        for attempt in range(2):
            try:
                return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
            except (InvalidToken, UnicodeError):
                if attempt or not self._refresh():
                    return None
        return None

    def _remember(self, token: str, readable: bool) -> None:
        if len(self._readable) >= READABLE_CACHE:
            del self._readable[next(iter(self._readable))]  # the oldest entry
        self._readable[_fingerprint(token)] = readable

    def rotate(self, token: str) -> str:
        return self._fernet.rotate(token.encode("ascii")).decode("ascii")

    def derived_key(self, purpose: bytes) -> bytes:
        """A key for ``purpose`` derived (HKDF-SHA256) from the deployment's first key.

        For keyed digests that must not be computable without the deployment's secret;
        a different purpose gives an unrelated key. It changes when a new key is put first.
        """
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"mailtab:" + purpose)
        return hkdf.derive(base64.urlsafe_b64decode(self._keys[0]))


def _fingerprint(token: str) -> bytes:
    return hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def key_file_path(settings: Settings) -> Path:
    return settings.data_dir / KEY_FILE_NAME


def _read_key_file(path: Path) -> list[str]:
    keys = [line.strip() for line in path.read_text(encoding="ascii").splitlines() if line.strip()]
    for index, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ConfigError(f"{path}: line {index} is not a Fernet key") from None
    if not keys:
        raise ConfigError(f"{path}: holds no key")
    return keys


def _write_key_file(path: Path, keys: list[str]) -> None:
    """Write the keys (newest first) to a new file readable by the owner only, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write("\n".join(keys) + "\n")
    os.replace(temporary, path)


def load_password_box(settings: Settings, *, create: bool = True) -> PasswordBox:
    """The box for the configured keys, or for the embedded key file (created when missing)."""
    keys = settings.fernet_keys()
    if keys:
        return PasswordBox(keys)
    if not settings.embedded:
        raise ConfigError(
            "MAILTAB_SECRET_KEY: required with a server database "
            "(generate one with `mailtab generate-key`)"
        )
    path = key_file_path(settings)
    if not path.exists():
        if not create:
            raise ConfigError(f"MAILTAB_SECRET_KEY: not set and {path} does not exist")
        stored = count_stored_passwords(settings.db_url)
        if stored:
            raise KeyLost(
                f"{path} does not exist, but the database holds {stored} stored password(s) "
                "that only its key opens: restore the file (or set MAILTAB_SECRET_KEY to that "
                "key); if the key is lost for good, `mailtab rotate-key` starts a new one and "
                "those passwords must be entered again"
            )
        _write_key_file(path, [Fernet.generate_key().decode("ascii")])
        log.warning(
            "generated the password encryption key file %s (keep it with the database)", path
        )
    return PasswordBox(_read_key_file(path), reload=lambda: _read_key_file(path))


def add_key_to_file(settings: Settings) -> Path:
    """Put a new key first in the embedded key file (older keys stay to decrypt)."""
    path = key_file_path(settings)
    keys = _read_key_file(path) if path.exists() else []
    _write_key_file(path, [Fernet.generate_key().decode("ascii"), *keys])
    return path


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """What the start-up check found: ``unreadable`` of the ``checked`` most recent of ``stored``."""

    stored: int
    checked: int
    unreadable: int


async def check_stored_passwords(box: PasswordBox, *, sample: int = CHECK_SAMPLE) -> KeyCheck:
    """Try the configured keys on the ``sample`` most recently saved passwords."""
    saved = EmailAccount.filter(password_encrypted__isnull=False).exclude(password_encrypted="")
    stored = await saved.count()
    rows = await saved.order_by("-updated_at", "-id").limit(sample).only("id", "password_encrypted")
    unreadable = sum(
        1 for row in rows if row.password_encrypted and not box.readable(row.password_encrypted)
    )
    return KeyCheck(stored=stored, checked=len(rows), unreadable=unreadable)


async def rotate_oauth_tokens(box: PasswordBox) -> tuple[int, int]:
    """Re-encrypt the OAuth2 connections' tokens under the newest key: (rotated, unreadable)."""
    return await oauth_tokens.rotate(box)


async def rotate(box: PasswordBox) -> tuple[int, int]:
    """Re-encrypt every stored password under the newest key: (rotated, unreadable).

    Each row is replaced only if it still holds what was read, so a password saved
    meanwhile (already under the newest key) is never overwritten by an older one.
    """
    rotated = unreadable = 0
    rows = await EmailAccount.filter(password_encrypted__isnull=False).values_list(
        "id", "password_encrypted"
    )
    for account_id, token in rows:
        if not token:
            continue
        try:
            new = box.rotate(token)
        except InvalidToken:
            unreadable += 1
            continue
        rotated += await EmailAccount.filter(id=account_id, password_encrypted=token).update(
            password_encrypted=new
        )
    return rotated, unreadable
