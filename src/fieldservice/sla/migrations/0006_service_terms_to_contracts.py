# Business calendars, working periods, holidays, SLA policies and targets are contracts' models
# now (contracts 0004): they leave this app's state, and the clocks' calendar points to
# contracts.BusinessCalendar. The tables and their rows stay (the models keep the sla_ names).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contracts', '0004_service_terms_from_sla'),
        ('sla', '0005_target_labels'),
        # Every foreign key to these models points to contracts before they leave sla's state.
        ('workorders', '0006_sla_policy_from_contracts'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='slaclock',
                    name='calendar',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='contracts.businesscalendar', verbose_name='business calendar'),
                ),
                migrations.RemoveField(
                    model_name='slapolicy',
                    name='calendar',
                ),
                migrations.RemoveField(
                    model_name='workingperiod',
                    name='calendar',
                ),
                migrations.RemoveField(
                    model_name='slatarget',
                    name='policy',
                ),
                migrations.DeleteModel(
                    name='Holiday',
                ),
                migrations.DeleteModel(
                    name='BusinessCalendar',
                ),
                migrations.DeleteModel(
                    name='WorkingPeriod',
                ),
                migrations.DeleteModel(
                    name='SlaPolicy',
                ),
                migrations.DeleteModel(
                    name='SlaTarget',
                ),
            ],
            database_operations=[],
        ),
    ]
