"""Our firms, and the outlets and warehouses that belong to them."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

__all__ = ["Firm", "Outlet", "OutletKind"]


class OutletKind(StrEnum):
    OUTLET = "OUTLET"
    WAREHOUSE = "WAREHOUSE"


class Firm(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=255)
    inn = fields.CharField(max_length=12, db_index=True)
    kpp = fields.CharField(max_length=9, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    outlets: fields.ReverseRelation[Outlet]

    _no_comments = True  # Tortoise would parse this file to find "#:" field comments

    class Meta:
        table = "firm"
        ordering = ("id",)


class Outlet(Model):
    id = fields.IntField(primary_key=True)
    # RESTRICT: a firm that still has outlets cannot be deleted, not even by a stray SQL client.
    firm: fields.ForeignKeyRelation[Firm] = fields.ForeignKeyField(
        "models.Firm", related_name="outlets", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=255)
    kind = fields.CharEnumField(OutletKind, max_length=16)
    address = fields.CharField(max_length=500, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    firm_id: int

    _no_comments = True  # Tortoise would parse this file to find "#:" field comments

    class Meta:
        table = "outlet"
        ordering = ("id",)
        # migrations/0005_indexes.py: each firm's outlets in the order they are paged.
        indexes = (Index(fields=("firm_id", "id"), name="outlet_firm_id"),)
