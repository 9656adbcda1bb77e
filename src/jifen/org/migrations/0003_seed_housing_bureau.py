"""Seed the housing bureau: it scores nothing, but it provides public rental housing, a
scenario of the measures (三(四)), so it must exist as a providing department."""

from django.db import migrations

CODE = "housing_bureau"


def seed(apps, schema_editor):
    apps.get_model("org", "Department").objects.get_or_create(
        code=CODE,
        defaults={"name": "住房和城乡建设局", "name_en": "Housing and Urban-Rural Development Bureau"},
    )


def unseed(apps, schema_editor):
    Department = apps.get_model("org", "Department")
    Department.objects.filter(code=CODE, routes__isnull=True, staff__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("org", "0002_seed_towns_and_departments")]
    operations = [migrations.RunPython(seed, unseed)]
