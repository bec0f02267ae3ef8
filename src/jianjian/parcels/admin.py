"""Parcels are read-only in the admin: their state changes only through the lifecycle services."""

from django.contrib import admin
from django.http import HttpRequest

from jianjian.parcels.models import CustodyEvent, Parcel

EVENT_FIELDS: tuple[str, ...] = (
    "seq",
    "at",
    "kind",
    "to_state",
    "point",
    "slot",
    "pickup_code",
    "actor_label",
    "method",
    "holder",
    "data",
)


class CustodyEventInline(admin.TabularInline):
    model = CustodyEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = EVENT_FIELDS

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Parcel)
class ParcelAdmin(admin.ModelAdmin):
    list_display = [
        "tracking_number",
        "carrier",
        "state",
        "point",
        "pickup_code",
        "recipient_flat",
        "intake_at",
    ]
    list_filter = ["community", "state", "carrier", "point"]
    search_fields = ["tracking_number", "pickup_code"]
    inlines = [CustodyEventInline]
    list_select_related = ["carrier", "point", "recipient_flat"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return [f.name for f in Parcel._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(CustodyEvent)
class CustodyEventAdmin(admin.ModelAdmin):
    list_display = ["parcel", "seq", "kind", "to_state", "point", "at", "actor_label", "method"]
    list_filter = ["kind", "method"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return [f.name for f in CustodyEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
