"""Assignments given straight to a provider's engineer name the provider too, as new ones do
(dispatch.services.provider_of): before this, such orders were invisible to the provider."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def record_providers(apps, schema_editor):
    Assignment = apps.get_model("dispatch", "Assignment")
    User = apps.get_model("accounts", "User")
    employer = User.objects.filter(pk=OuterRef("engineer_id"), organisation__kind="provider").values(
        "organisation_id"
    )[:1]
    Assignment.objects.filter(
        provider__isnull=True, engineer__organisation__kind="provider"
    ).update(provider_id=Subquery(employer))


class Migration(migrations.Migration):
    dependencies = [
        ("dispatch", "0004_rule_target_label"),
        ("accounts", "0001_initial"),
    ]

    operations = [migrations.RunPython(record_providers, migrations.RunPython.noop)]
