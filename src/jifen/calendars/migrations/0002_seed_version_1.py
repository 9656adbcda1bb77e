"""Seed calendar version 1 from the package (chinese-calendar + policies/calendar notices)."""

from django.db import migrations
from django.utils import timezone


def seed(apps, schema_editor):
    from jifen.calendars.seeding import seed as seed_version

    seed_version(
        apps.get_model("calendars", "CalendarVersion"),
        apps.get_model("calendars", "CalendarYear"),
        apps.get_model("calendars", "CalendarDay"),
        now=timezone.now(),
        using=schema_editor.connection.alias if schema_editor else "default",
    )


def unseed(apps, schema_editor):
    apps.get_model("calendars", "CalendarVersion").objects.filter(number=1).delete()


class Migration(migrations.Migration):
    dependencies = [("calendars", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
