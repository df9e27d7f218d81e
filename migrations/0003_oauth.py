from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_smart_setup')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OAuthConnection',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('provider', fields.CharField(max_length=16)),
                ('address', fields.CharField(max_length=254)),
                ('address_key', fields.CharField(max_length=254)),
                ('status', fields.CharField(max_length=32)),
                ('refresh_token_encrypted', fields.TextField(unique=False)),
                ('access_token_encrypted', fields.TextField(null=True, unique=False)),
                ('access_expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('refresh_lease_id', fields.CharField(null=True, max_length=32)),
                ('refresh_lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('refresh_count', fields.IntField(default=0)),
                ('token', fields.ForeignKeyField('models.ApiToken', source_field='token_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('connected_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'oauth_connection', 'app': 'models', 'unique_together': (('provider', 'address_key'),), 'pk_attr': 'id', 'table_description': 'A mailbox signed in with OAuth2: its refresh token and the cached access token.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OAuthState',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('state_hash', fields.CharField(unique=True, max_length=64)),
                ('provider', fields.CharField(max_length=16)),
                ('address', fields.CharField(max_length=254)),
                ('address_key', fields.CharField(max_length=254)),
                ('verifier_encrypted', fields.TextField(unique=False)),
                ('return_url', fields.CharField(null=True, max_length=2000)),
                ('token', fields.ForeignKeyField('models.ApiToken', source_field='token_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('lang', fields.CharField(default='ru', max_length=2)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'oauth_state', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One authorization in progress: started by ``startMailOAuth``, ended by the callback.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='EmailAccount',
            name='auth_method',
            field=fields.CharField(default='PASSWORD', db_default='PASSWORD', max_length=16),
        ),
    ]
