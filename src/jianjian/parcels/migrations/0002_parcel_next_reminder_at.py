# Issue 4: the reminder sweep's due-time column, indexed where something is due.

import datetime as dt

from django.db import migrations, models
from django.db.models import F


def schedule_waiting_parcels(apps, schema_editor):
    """Parcels already waiting get their first step; the sweep sends only the latest due one."""
    Community = apps.get_model("communities", "Community")
    Parcel = apps.get_model("parcels", "Parcel")
    for community in Community.objects.all():
        hours = [int(h) for h in (community.reminder_hours or []) if int(h) > 0]
        first = min(hours + [community.hold_days * 24])
        Parcel.objects.filter(
            community=community, state="at_point", intake_at__isnull=False
        ).update(next_reminder_at=F("intake_at") + dt.timedelta(hours=first))


class Migration(migrations.Migration):

    dependencies = [
        ('communities', '0002_initial'),
        ('parcels', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='parcel',
            name='next_reminder_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name='parcel',
            index=models.Index(condition=models.Q(('next_reminder_at__isnull', False)), fields=['next_reminder_at'], name='parcel_reminder_due'),
        ),
        migrations.RunPython(schedule_waiting_parcels, migrations.RunPython.noop),
    ]
