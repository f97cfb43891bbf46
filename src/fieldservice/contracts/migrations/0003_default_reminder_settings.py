from django.db import migrations

DEFAULTS = [("contract", 60), ("contract", 30), ("contract", 7), ("warranty", 30)]


def add_defaults(apps, schema_editor):
    ReminderSetting = apps.get_model("contracts", "ReminderSetting")
    for subject, days in DEFAULTS:
        ReminderSetting.objects.get_or_create(subject=subject, days_before=days)


class Migration(migrations.Migration):
    dependencies = [("contracts", "0002_price_items_and_reminders")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
