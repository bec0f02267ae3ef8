from django.apps import AppConfig
from django.db.models.signals import post_save, pre_save
from django.utils.translation import gettext_lazy as _


class CouriersConfig(AppConfig):
    name = "jianjian.couriers"
    verbose_name = _("Carriers and couriers")

    def ready(self) -> None:
        from jianjian.couriers import carriers, signals
        from jianjian.points.models import CollectionPoint

        pre_save.connect(signals.remember_plan_fields, sender=CollectionPoint)
        carriers.connect()
        post_save.connect(signals.reallocate_after_change, sender=CollectionPoint)
