# SLA policies and business calendars are contract terms: their models move from the sla app to
# this one. Only Django's idea of them moves; the tables keep their sla_ names and their rows
# (Meta.db_table), so this migration changes nothing in the database but the content types.
# sla 0006 then drops them from the sla app's state, after workorders 0006 repointed its foreign
# key.

import django.db.models.deletion
from django.db import migrations, models

MOVED = ["businesscalendar", "workingperiod", "holiday", "slapolicy", "slatarget"]


def _relabel(apps, old: str, new: str) -> None:
    """The content types of the moved models follow them, so the event log, admin history and
    permissions that point at them keep doing so. A fresh database has none yet (they are made
    after the last migration); a type already made under the new label is left alone."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    taken = ContentType.objects.filter(app_label=new, model__in=MOVED).values_list("model", flat=True)
    ContentType.objects.filter(app_label=old, model__in=MOVED).exclude(model__in=list(taken)).update(app_label=new)


def relabel_to_contracts(apps, schema_editor):
    _relabel(apps, "sla", "contracts")


def relabel_to_sla(apps, schema_editor):
    _relabel(apps, "contracts", "sla")


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('contracts', '0003_default_reminder_settings'),
        ('sla', '0005_target_labels'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='BusinessCalendar',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100, unique=True, verbose_name='name')),
                        ('time_zone', models.CharField(default='Asia/Shanghai', max_length=64, verbose_name='time zone')),
                        ('is_default', models.BooleanField(default=False, verbose_name='default calendar')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                    ],
                    options={
                        'verbose_name': 'business calendar',
                        'verbose_name_plural': 'business calendars',
                        'db_table': 'sla_businesscalendar',
                        'ordering': ['name'],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('is_default', True)), fields=('is_default',), name='calendar_one_default')],
                    },
                ),
                migrations.CreateModel(
                    name='SlaPolicy',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.SlugField(max_length=40, unique=True, verbose_name='code')),
                        ('name', models.CharField(max_length=100, verbose_name='name')),
                        ('customer_tier', models.CharField(blank=True, choices=[('strategic', 'Strategic'), ('key', 'Key account'), ('standard', 'Standard')], help_text='Orders of customers of this tier without a contract get this policy.', max_length=20, verbose_name='for customer tier')),
                        ('is_default', models.BooleanField(default=False, verbose_name='default policy')),
                        ('is_active', models.BooleanField(default=True, verbose_name='active')),
                        ('description', models.TextField(blank=True, verbose_name='description')),
                        ('calendar', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='policies', to='contracts.businesscalendar', verbose_name='business calendar')),
                    ],
                    options={
                        'verbose_name': 'SLA policy',
                        'verbose_name_plural': 'SLA policies',
                        'db_table': 'sla_slapolicy',
                        'ordering': ['name'],
                    },
                ),
                migrations.AlterField(
                    model_name='contract',
                    name='sla_policy',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='contracts', to='contracts.slapolicy', verbose_name='SLA policy'),
                ),
                migrations.CreateModel(
                    name='SlaTarget',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('priority', models.CharField(choices=[('low', 'Low'), ('normal', 'Normal'), ('high', 'High'), ('urgent', 'Urgent')], max_length=10, verbose_name='priority')),
                        ('response_minutes', models.PositiveIntegerField(blank=True, null=True, verbose_name='response (minutes)')),
                        ('acceptance_minutes', models.PositiveIntegerField(blank=True, null=True, verbose_name='acceptance (minutes)')),
                        ('arrival_minutes', models.PositiveIntegerField(blank=True, null=True, verbose_name='arrival (minutes)')),
                        ('resolution_minutes', models.PositiveIntegerField(blank=True, null=True, verbose_name='resolution (minutes)')),
                        ('policy', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='targets', to='contracts.slapolicy')),
                    ],
                    options={
                        'verbose_name': 'SLA target',
                        'verbose_name_plural': 'SLA targets',
                        'db_table': 'sla_slatarget',
                        'ordering': ['policy', 'priority'],
                    },
                ),
                migrations.CreateModel(
                    name='WorkingPeriod',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('weekday', models.PositiveSmallIntegerField(choices=[(0, 'Monday'), (1, 'Tuesday'), (2, 'Wednesday'), (3, 'Thursday'), (4, 'Friday'), (5, 'Saturday'), (6, 'Sunday')], verbose_name='weekday')),
                        ('starts_at', models.TimeField(verbose_name='from')),
                        ('ends_at', models.TimeField(verbose_name='until')),
                        ('calendar', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='periods', to='contracts.businesscalendar')),
                    ],
                    options={
                        'verbose_name': 'working period',
                        'verbose_name_plural': 'working periods',
                        'db_table': 'sla_workingperiod',
                        'ordering': ['weekday', 'starts_at'],
                    },
                ),
                migrations.CreateModel(
                    name='Holiday',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('date', models.DateField(verbose_name='date')),
                        ('kind', models.CharField(choices=[('holiday', 'Public holiday (no work)'), ('workday', 'Adjusted working day')], default='holiday', max_length=10, verbose_name='kind')),
                        ('name', models.CharField(max_length=100, verbose_name='name')),
                        ('calendar', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='holidays', to='contracts.businesscalendar')),
                    ],
                    options={
                        'verbose_name': 'holiday',
                        'verbose_name_plural': 'holidays',
                        'db_table': 'sla_holiday',
                        'ordering': ['date'],
                        'constraints': [models.UniqueConstraint(fields=('calendar', 'date'), name='holiday_unique_date')],
                    },
                ),
                migrations.AddConstraint(
                    model_name='slapolicy',
                    constraint=models.UniqueConstraint(condition=models.Q(('is_default', True)), fields=('is_default',), name='sla_policy_one_default'),
                ),
                migrations.AddConstraint(
                    model_name='slapolicy',
                    constraint=models.UniqueConstraint(condition=models.Q(('customer_tier', ''), _negated=True), fields=('customer_tier',), name='sla_policy_one_per_tier'),
                ),
                migrations.AddConstraint(
                    model_name='slatarget',
                    constraint=models.UniqueConstraint(fields=('policy', 'priority'), name='sla_target_unique_priority'),
                ),
                migrations.AddConstraint(
                    model_name='workingperiod',
                    constraint=models.CheckConstraint(condition=models.Q(('ends_at__gt', models.F('starts_at'))), name='working_period_ends_after_start'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(relabel_to_contracts, relabel_to_sla),
    ]
