from django.contrib import admin

from jianjian.communities.models import (
    Building,
    Community,
    Flat,
    Membership,
    PickupProxy,
    Resident,
)


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "hold_days", "quiet_start", "quiet_end"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "community"]
    list_filter = ["community"]


@admin.register(Flat)
class FlatAdmin(admin.ModelAdmin):
    list_display = ["code", "building", "community"]
    list_filter = ["community"]
    search_fields = ["code"]
    readonly_fields = ["code"]


@admin.register(Resident)
class ResidentAdmin(admin.ModelAdmin):
    list_display = ["name", "flat", "phone", "preferred_point", "locker_consent"]
    list_filter = ["community", "locker_consent"]
    search_fields = ["name", "phone", "flat__code"]
    raw_id_fields = ["flat", "user"]


@admin.register(PickupProxy)
class PickupProxyAdmin(admin.ModelAdmin):
    list_display = ["resident", "phone", "parcel", "valid_until", "revoked_at"]
    raw_id_fields = ["resident", "parcel"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "community", "role"]
    list_filter = ["community", "role"]
    filter_horizontal = ["points"]
