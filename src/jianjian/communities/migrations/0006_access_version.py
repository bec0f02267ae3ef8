# The access version and the triggers that raise it (communities/access_triggers.py).

from django.db import migrations, models

from jianjian.communities import access_triggers


class Migration(migrations.Migration):
    dependencies = [
        ("communities", "0005_preadvice_expiry"),
        ("points", "0004_layout_version"),
    ]

    operations = [
        migrations.CreateModel(
            name="AccessVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("version", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(access_triggers.create, access_triggers.drop),
    ]
