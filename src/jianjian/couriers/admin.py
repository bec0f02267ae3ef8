from django.contrib import admin

from jianjian.couriers.models import Carrier, Courier


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en"]


@admin.register(Courier)
class CourierAdmin(admin.ModelAdmin):
    list_display = ["name", "carrier", "phone", "active"]
    list_filter = ["carrier", "active"]
    filter_horizontal = ["communities"]


from jianjian.couriers.models import ApiToken, Manifest, PointDistance  # noqa: E402


@admin.register(PointDistance)
class PointDistanceAdmin(admin.ModelAdmin):
    list_display = ["building", "point", "distance"]
    list_filter = ["community"]


@admin.register(Manifest)
class ManifestAdmin(admin.ModelAdmin):
    list_display = ["created_at", "community", "carrier", "source", "rows", "imported", "rejected"]
    list_filter = ["community", "carrier", "source"]
    readonly_fields = [f.name for f in Manifest._meta.fields]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued with `jianjian manage create_api_token` (the secret is shown once);
    here an admin sees them, changes the role or scope, and deactivates them."""

    list_display = ["name", "prefix", "role", "user", "carrier", "can_write", "active"]
    list_filter = ["role", "active"]
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at"]
    filter_horizontal = ["communities"]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False
