"""Engineers who existed before stock: each gets his own van, as new engineers do."""

from django.db import migrations


def open_vans(apps, schema_editor):
    EngineerProfile = apps.get_model("accounts", "EngineerProfile")
    Warehouse = apps.get_model("inventory", "Warehouse")
    for profile in EngineerProfile.objects.select_related("user").exclude(user__organisation=None):
        user = profile.user
        if Warehouse.objects.filter(engineer=user).exists():
            continue
        name = user.display_name or f"{user.first_name} {user.last_name}".strip() or user.username
        Warehouse.objects.create(
            code=f"VAN-{user.pk}", name=name, kind="van", organisation_id=user.organisation_id, engineer=user
        )


class Migration(migrations.Migration):
    dependencies = [("inventory", "0002_stock"), ("accounts", "0004_password_reset_request")]

    operations = [migrations.RunPython(open_vans, migrations.RunPython.noop)]
