from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    operations = [
        ops.AddField(
            model_name='TestEmailAttempt',
            name='steps_json',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='TestEmailAttempt',
            name='config_digest',
            field=fields.CharField(null=True, db_index=True, max_length=64),
        ),
    ]
