# SLA policies moved to contracts (contracts 0004): the foreign key points there in Django's state;
# the column and its constraint stay as they are, on the same table.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contracts', '0004_service_terms_from_sla'),
        ('workorders', '0005_request_urgency'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='workorder',
                    name='sla_policy',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='work_orders', to='contracts.slapolicy', verbose_name='SLA policy'),
                ),
            ],
            database_operations=[],
        ),
    ]
