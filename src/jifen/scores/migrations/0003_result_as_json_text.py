"""Store results as ``json`` instead of ``jsonb`` on PostgreSQL (``scores.fields``).

The type change rewrites the column; lz4 compression (migration 0002) is set again after it.
"""

import importlib

from django.db import migrations

import jifen.scores.fields

lz4 = importlib.import_module("jifen.scores.migrations.0002_result_lz4_compression")


class Migration(migrations.Migration):
    dependencies = [("scores", "0002_result_lz4_compression")]

    operations = [
        migrations.AlterField(
            model_name="score",
            name="result",
            field=jifen.scores.fields.StoredJSONField(verbose_name="result with explanation"),
        ),
        migrations.RunPython(lz4.use_lz4, migrations.RunPython.noop, elidable=True),
    ]
