"""Seed the routing table (org.RuleRoute) from the policy files' ``departments``.

The feeds decide what a department may send from the routing table, so the table must not be
empty. This is the starting point; the center edits the table afterwards, and
``jifen feeds routes --sync`` adds the routes of new policy versions.
"""

from django.conf import settings
from django.db import migrations


def seed(apps, schema_editor):
    from jifen.engine import load_policies
    from jifen.org.routing import routes_from_policies

    Department = apps.get_model("org", "Department")
    RuleRoute = apps.get_model("org", "RuleRoute")
    departments = {d.code: d for d in Department.objects.all()}
    for rule, code in routes_from_policies(load_policies(settings.JIFEN_POLICY_DIR)):
        if code in departments:
            RuleRoute.objects.get_or_create(rule=rule, department=departments[code])


class Migration(migrations.Migration):
    dependencies = [
        ("feeds", "0002_batch_format_and_refusal_reason"),
        ("org", "0002_seed_towns_and_departments"),
    ]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
