# Per-weekday opening hours replace the single opens_at/closes_at pair (each point keeps its
# hours on all seven days), and points get temporary closures.

import django.db.models.deletion
import django.utils.timezone
import jianjian.points.models
from django.db import migrations, models


def one_week_of_hours(apps, schema_editor):
    Point = apps.get_model("points", "CollectionPoint")
    for point in Point.objects.all().only("pk", "opens_at", "closes_at"):
        day = [f"{point.opens_at:%H:%M}", f"{point.closes_at:%H:%M}"]
        Point.objects.filter(pk=point.pk).update(hours=[day] * 7)


def one_pair_of_hours(apps, schema_editor):
    # Back to one pair: the first open day's hours (a week of closed days keeps the defaults).
    import datetime as dt

    Point = apps.get_model("points", "CollectionPoint")
    for point in Point.objects.all().only("pk", "hours"):
        days = [d for d in (point.hours or []) if d]
        if days:
            opens, closes = (dt.time.fromisoformat(t) for t in days[0])
            Point.objects.filter(pk=point.pk).update(opens_at=opens, closes_at=closes)


class Migration(migrations.Migration):

    dependencies = [
        ('communities', '0003_resident_quiet_hours'),
        ('points', '0002_disinfection'),
    ]

    operations = [
        migrations.AddField(
            model_name='collectionpoint',
            name='hours',
            field=models.JSONField(default=jianjian.points.models.default_hours, validators=[jianjian.points.models.validate_week], verbose_name='opening hours'),
        ),
        migrations.RunPython(one_week_of_hours, one_pair_of_hours),
        migrations.RemoveField(
            model_name='collectionpoint',
            name='closes_at',
        ),
        migrations.RemoveField(
            model_name='collectionpoint',
            name='opens_at',
        ),
        migrations.CreateModel(
            name='PointClosure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('starts_on', models.DateField(verbose_name='closed from')),
                ('ends_on', models.DateField(verbose_name='closed until')),
                ('reason', models.CharField(max_length=200, verbose_name='reason')),
                ('reopened_on', models.DateField(blank=True, null=True, verbose_name='reopened on')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created')),
                ('community', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='communities.community')),
                ('point', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='closures', to='points.collectionpoint')),
            ],
            options={
                'verbose_name': 'temporary closure',
                'verbose_name_plural': 'temporary closures',
                'ordering': ['-starts_on', '-pk'],
                'indexes': [models.Index(fields=['point', 'ends_on'], name='closure_point_ends')],
            },
        ),
    ]
