"""API access tokens: stored as SHA-256 digests, never in the clear."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

__all__ = ["ApiToken", "Role"]


class Role(StrEnum):
    ADMIN = "admin"
    VIEWER = "viewer"
    SENDER = "sender"
    """Enqueues and reads notifications, nothing else: what the ERP's back end holds."""


class ApiToken(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    role = fields.CharEnumField(Role, max_length=16)
    # Tokens are 256-bit random strings, so a plain digest is enough: nothing to brute-force.
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)

    _no_comments = True  # Tortoise would parse this file to find "#:" field comments

    class Meta:
        table = "api_token"
