# A point's layout version, raised by triggers on its slots (points/layout_triggers.py).

from django.db import migrations, models

from jianjian.points import layout_triggers


class Migration(migrations.Migration):
    dependencies = [("points", "0003_weekly_hours_closures")]

    operations = [
        migrations.AddField(
            model_name="collectionpoint",
            name="layout_version",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(layout_triggers.create, layout_triggers.drop),
    ]
