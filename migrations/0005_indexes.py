"""Indexes for the listings, so a page costs the same however long the tables grow.

- ``email_account`` and ``test_email_attempt``: newest first (``created_at``, ``id``), the
  order ``emailAccounts`` and ``testEmailAttempts`` page in; the attempts also by
  ``delivered`` and by ``outcome`` with that order, as the listing filters them.
- ``outlet``: by firm and id, the order ``firms { outlets }`` numbers each firm's outlets in.
"""

from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0004_notifications")]

    operations = [
        ops.AddIndex(
            model_name="EmailAccount",
            index=Index(fields=("created_at", "id"), name="email_account_created_id"),
        ),
        ops.AddIndex(
            model_name="TestEmailAttempt",
            index=Index(fields=("created_at", "id"), name="test_email_attempt_created_id"),
        ),
        ops.AddIndex(
            model_name="TestEmailAttempt",
            index=Index(
                fields=("delivered", "created_at", "id"), name="test_email_attempt_delivered"
            ),
        ),
        ops.AddIndex(
            model_name="TestEmailAttempt",
            index=Index(fields=("outcome", "created_at", "id"), name="test_email_attempt_outcome"),
        ),
        ops.AddIndex(
            model_name="Outlet",
            index=Index(fields=("firm_id", "id"), name="outlet_firm_id"),
        ),
    ]
