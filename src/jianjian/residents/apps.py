from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResidentsConfig(AppConfig):
    name = "jianjian.residents"
    label = "residents"
    verbose_name = _("residents")
    default_auto_field = "django.db.models.BigAutoField"
