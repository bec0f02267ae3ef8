from django.apps import AppConfig


class ScansConfig(AppConfig):
    name = "bench.floor.scans"
    label = "floor_scans"
    default_auto_field = "django.db.models.BigAutoField"
