from tortoise import migrations
from tortoise.migrations import operations as ops
from models.firms import OutletKind
from models.tokens import Role
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='ApiToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=100)),
                ('role', fields.CharEnumField(description='ADMIN: admin\nVIEWER: viewer', enum_type=Role, max_length=16)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_token', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EmailAccount',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('provider', fields.CharField(max_length=16)),
                ('smtp_host', fields.CharField(max_length=253)),
                ('port', fields.IntField()),
                ('use_ssl', fields.BooleanField()),
                ('security', fields.CharField(max_length=16)),
                ('address', fields.CharField(max_length=254)),
                ('address_key', fields.CharField(max_length=254)),
                ('sender_name', fields.CharField(null=True, max_length=200)),
                ('sender_email', fields.CharField(max_length=254)),
                ('password_encrypted', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'email_account', 'app': 'models', 'unique_together': (('address_key', 'smtp_host'),), 'pk_attr': 'id', 'table_description': 'Reference book ► Email accounts: one record per mailbox and SMTP server.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Firm',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=255)),
                ('inn', fields.CharField(db_index=True, max_length=12)),
                ('kpp', fields.CharField(null=True, max_length=9)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'firm', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Outlet',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('firm', fields.ForeignKeyField('models.Firm', source_field='firm_id', db_constraint=True, to_field='id', related_name='outlets', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=255)),
                ('kind', fields.CharEnumField(description='OUTLET: OUTLET\nWAREHOUSE: WAREHOUSE', enum_type=OutletKind, max_length=16)),
                ('address', fields.CharField(null=True, max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'outlet', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ProgramSetting',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('group', fields.CharField(max_length=200)),
                ('key', fields.CharField(max_length=100)),
                ('value_json', fields.TextField(null=True, unique=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'program_setting', 'app': 'models', 'unique_together': (('group', 'key'),), 'pk_attr': 'id', 'table_description': 'Program settings: one value of a settings group, addressed as ``group`` + ``key``.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TestEmailAttempt',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('token_name', fields.CharField(null=True, max_length=100)),
                ('token', fields.ForeignKeyField('models.ApiToken', source_field='token_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('account', fields.ForeignKeyField('models.EmailAccount', source_field='account_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('source', fields.CharField(max_length=8)),
                ('smtp_host', fields.CharField(null=True, max_length=253)),
                ('port', fields.IntField(null=True)),
                ('security', fields.CharField(null=True, max_length=16)),
                ('address', fields.CharField(null=True, max_length=254)),
                ('recipient', fields.CharField(null=True, max_length=254)),
                ('delivered', fields.BooleanField(default=False)),
                ('outcome', fields.CharField(max_length=32)),
                ('smtp_code', fields.IntField(null=True)),
                ('duration_ms', fields.IntField(default=0)),
            ],
            options={'table': 'test_email_attempt', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One press of "Send": who, when, where to, and how it ended. Never the password.'},
            bases=['Model'],
        ),
    ]
