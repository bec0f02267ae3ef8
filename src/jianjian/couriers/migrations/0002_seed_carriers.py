from django.db import migrations

from jianjian.couriers.recognition import CARRIERS


def seed(apps, schema_editor):
    Carrier = apps.get_model("couriers", "Carrier")
    for code, name, name_en in CARRIERS:
        Carrier.objects.update_or_create(code=code, defaults={"name": name, "name_en": name_en})


class Migration(migrations.Migration):
    dependencies = [("couriers", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
