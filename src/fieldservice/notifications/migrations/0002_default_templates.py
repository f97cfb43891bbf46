"""The shipped texts of every event in both languages, as rows administrators can edit."""

from django.db import migrations


def add_defaults(apps, schema_editor):
    from fieldservice.notifications.defaults import DEFAULT_TEMPLATES

    NotificationTemplate = apps.get_model("notifications", "NotificationTemplate")
    for event, languages in DEFAULT_TEMPLATES.items():
        for language, texts in languages.items():
            NotificationTemplate.objects.get_or_create(
                event=event, language=language, defaults={"subject": texts["subject"], "body": texts["body"]}
            )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
