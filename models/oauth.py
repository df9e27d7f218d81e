"""OAuth2 sign-ins of mailboxes: the pending authorizations and the connections they made."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.tokens import ApiToken

__all__ = ["OAuthConnection", "OAuthState"]


class OAuthState(Model):
    """One authorization in progress: started by ``startMailOAuth``, ended by the callback.

    Only a digest of ``state`` is kept (the value itself travels in the browser), with the
    PKCE code verifier encrypted like passwords. ``used_at`` makes it single-use: the
    callback takes it with one conditional update, on any instance.
    """

    id = fields.IntField(primary_key=True)
    state_hash = fields.CharField(max_length=64, unique=True)
    provider = fields.CharField(max_length=16)
    address = fields.CharField(max_length=254)
    address_key = fields.CharField(max_length=254)
    verifier_encrypted = fields.TextField()
    return_url = fields.CharField(max_length=2000, null=True)
    token: fields.ForeignKeyNullableRelation[ApiToken] = fields.ForeignKeyField(
        "models.ApiToken", null=True, on_delete=fields.CASCADE, related_name=False
    )
    lang = fields.CharField(max_length=2, default="ru")
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(db_index=True)
    used_at = fields.DatetimeField(null=True)

    _no_comments = True  # Tortoise would parse this file to find "#:" field comments

    class Meta:
        table = "oauth_state"


class OAuthConnection(Model):
    """A mailbox signed in with OAuth2: its refresh token and the cached access token.

    Both tokens are encrypted under the password keys. ``refresh_lease_until`` and
    ``refresh_lease_id`` let one instance at a time refresh the access token: the lease is
    taken with a conditional update (compare-and-set), which works alike on SQLite and
    PostgreSQL and holds no database lock while the provider is asked.
    """

    id = fields.IntField(primary_key=True)
    provider = fields.CharField(max_length=16)
    address = fields.CharField(max_length=254)
    address_key = fields.CharField(max_length=254)
    status = fields.CharField(max_length=32)
    refresh_token_encrypted = fields.TextField()
    access_token_encrypted = fields.TextField(null=True)
    access_expires_at = fields.DatetimeField(null=True)
    refresh_lease_id = fields.CharField(max_length=32, null=True)
    refresh_lease_until = fields.DatetimeField(null=True)
    refresh_count = fields.IntField(default=0)
    token: fields.ForeignKeyNullableRelation[ApiToken] = fields.ForeignKeyField(
        "models.ApiToken", null=True, on_delete=fields.SET_NULL, related_name=False
    )
    connected_at = fields.DatetimeField()
    updated_at = fields.DatetimeField(auto_now=True)

    _no_comments = True  # Tortoise would parse this file to find "#:" field comments

    class Meta:
        table = "oauth_connection"
        unique_together = (("provider", "address_key"),)
