"""Every installation starts with one integration to configure."""

from __future__ import annotations

from django.db import migrations


def create_default(apps, schema_editor):
    Integration = apps.get_model("integrations", "Integration")
    if not Integration.objects.exists():
        Integration.objects.create(name="Default")


class Migration(migrations.Migration):
    dependencies = [("integrations", "0001_initial")]

    operations = [migrations.RunPython(create_default, migrations.RunPython.noop)]
