from tortoise import migrations
from tortoise.migrations import operations as ops
from models.notifications import NotificationStatus
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_oauth')]

    operations = [
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('idempotency_key', fields.CharField(unique=True, max_length=200)),
                ('content_hash', fields.CharField(max_length=64)),
                ('to_address', fields.CharField(max_length=254)),
                ('subject', fields.CharField(max_length=500)),
                ('text', fields.TextField(unique=False)),
                ('html', fields.TextField(null=True, unique=False)),
                ('message_id', fields.CharField(max_length=300)),
                ('status', fields.CharEnumField(description='QUEUED: QUEUED\nSENDING: SENDING\nSENT: SENT\nFAILED: FAILED', enum_type=NotificationStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('next_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('lease_owner', fields.CharField(null=True, max_length=64)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('account_id', fields.IntField(null=True)),
                ('last_failure', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'notification', 'app': 'models', 'indexes': (('status', 'next_attempt_at'), ('account_id', 'sent_at')), 'pk_attr': 'id', 'table_description': 'One letter to a customer: what to send, its state in the queue, and its last failure.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DeliveryPause',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account_id', fields.IntField(unique=True)),
                ('paused_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('failure', fields.TextField(unique=False)),
            ],
            options={'table': 'notification_pause', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An account whose own failure (login, app password …) stopped its queue.'},
            bases=['Model'],
        ),
    ]
