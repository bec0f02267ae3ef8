from django.db import migrations

from jianjian.couriers.recognition import seed_carriers


def seed(apps, schema_editor):
    seed_carriers(apps.get_model("couriers", "Carrier"))


class Migration(migrations.Migration):
    dependencies = [("couriers", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
