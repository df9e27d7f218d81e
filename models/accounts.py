"""The Email accounts reference book, the program settings store, and test-letter attempts."""

from __future__ import annotations

import json
from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

__all__ = ["EmailAccount", "ProgramSetting", "TestEmailAttempt"]


class EmailAccount(Model):
    """Reference book ► Email accounts: one record per mailbox and SMTP server."""

    id = fields.IntField(primary_key=True)
    provider = fields.CharField(max_length=16)
    smtp_host = fields.CharField(max_length=253)
    port = fields.IntField()
    use_ssl = fields.BooleanField()
    security = fields.CharField(max_length=16)
    address = fields.CharField(max_length=254)
    # The address as compared: normalized and lowercased. With smtp_host it identifies
    # the account, and the unique constraint is what keeps racing saves from duplicating it.
    address_key = fields.CharField(max_length=254)
    sender_name = fields.CharField(max_length=200, null=True)
    sender_email = fields.CharField(max_length=254)
    password_encrypted = fields.TextField(null=True)
    # PASSWORD, OAUTH2 (the connection of oauth.tokens signs in) or NONE (a relay).
    auth_method = fields.CharField(max_length=16, default="PASSWORD", db_default="PASSWORD")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    _no_comments = True  # Tortoise would parse this file to find "#:" field comments

    class Meta:
        table = "email_account"
        unique_together = (("address_key", "smtp_host"),)
        ordering = ("-created_at", "-id")
        # migrations/0005_indexes.py: the listing's order.
        indexes = (Index(fields=("created_at", "id"), name="email_account_created_id"),)

    @property
    def has_password(self) -> bool:
        return bool(self.password_encrypted)


class ProgramSetting(Model):
    """Program settings: one value of a settings group, addressed as ``group`` + ``key``.

    Groups are paths such as ``CRM/Notifications/Email``; values are JSON text
    (Tortoise's JSONField would read a stored plain string back as JSON source).
    """

    id = fields.IntField(primary_key=True)
    group = fields.CharField(max_length=200)
    key = fields.CharField(max_length=100)
    value_json = fields.TextField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    _no_comments = True  # Tortoise would parse this file to find "#:" field comments

    class Meta:
        table = "program_setting"
        unique_together = (("group", "key"),)

    @property
    def value(self) -> Any:
        return None if self.value_json is None else json.loads(self.value_json)

    @staticmethod
    def encode(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class TestEmailAttempt(Model):
    """One press of "Send": who, when, where to, and how it ended. Never the password."""

    __test__ = False  # not a pytest test class, whatever its name

    id = fields.IntField(primary_key=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    token_name = fields.CharField(max_length=100, null=True)
    token: fields.ForeignKeyNullableRelation[Model] = fields.ForeignKeyField(
        "models.ApiToken", null=True, on_delete=fields.SET_NULL, related_name=False
    )
    account: fields.ForeignKeyNullableRelation[EmailAccount] = fields.ForeignKeyField(
        "models.EmailAccount", null=True, on_delete=fields.SET_NULL, related_name=False
    )
    source = fields.CharField(max_length=8)
    smtp_host = fields.CharField(max_length=253, null=True)
    port = fields.IntField(null=True)
    security = fields.CharField(max_length=16, null=True)
    address = fields.CharField(max_length=254, null=True)
    recipient = fields.CharField(max_length=254, null=True)
    delivered = fields.BooleanField(default=False)
    outcome = fields.CharField(max_length=32)
    smtp_code = fields.IntField(null=True)
    duration_ms = fields.IntField(default=0)
    steps_json = fields.TextField(null=True)
    """The SMTP conversation's steps (mail.steps), replies redacted; JSON."""
    config_digest = fields.CharField(max_length=64, null=True, db_index=True)
    """Keyed digest of the configuration tried (services.tested_config), never the password."""

    _no_comments = True  # Tortoise would parse this file to find "#:" field comments

    class Meta:
        table = "test_email_attempt"
        ordering = ("-created_at", "-id")
        # migrations/0005_indexes.py: the listing's order, also under its two filters.
        indexes = (
            Index(fields=("created_at", "id"), name="test_email_attempt_created_id"),
            Index(fields=("delivered", "created_at", "id"), name="test_email_attempt_delivered"),
            Index(fields=("outcome", "created_at", "id"), name="test_email_attempt_outcome"),
        )
