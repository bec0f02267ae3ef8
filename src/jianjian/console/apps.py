from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsoleConfig(AppConfig):
    """The community admin's console: the staff pages that set a community up and run it."""

    name = "jianjian.console"
    label = "console"
    verbose_name = _("console")
    default_auto_field = "django.db.models.BigAutoField"
