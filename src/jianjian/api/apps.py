from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    """Installed for its message catalog (the API's errors are translated); it has no models."""

    name = "jianjian.api"
    label = "jianjian_api"
    verbose_name = _("API")
