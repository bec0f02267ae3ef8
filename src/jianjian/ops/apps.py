from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    name = "jianjian.ops"
    verbose_name = _("Operations")

    def ready(self) -> None:
        # One structured log line per committed custody event, without touching the services.
        from jianjian.ops import logs

        logs.connect_custody_logging()
