from django.db import migrations

from jianjian.couriers.recognition import seed_carriers


def seed(apps, schema_editor):
    # Best, Danniao, DHL, FedEx and UPS joined the carrier table; refreshing is idempotent.
    seed_carriers(apps.get_model("couriers", "Carrier"))


class Migration(migrations.Migration):
    dependencies = [("couriers", "0003_issue5_manifests_tokens")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
