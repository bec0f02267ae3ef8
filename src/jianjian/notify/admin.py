from django.contrib import admin
from django.http import HttpRequest

from jianjian.notify.models import GroupRobot, Notification, ResidentPreference


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "cause",
        "channel",
        "address",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["status", "channel", "cause"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(GroupRobot)
class GroupRobotAdmin(admin.ModelAdmin):
    list_display = ["name", "community", "kind", "purpose", "active", "next_digest_at"]
    list_filter = ["community", "kind", "purpose", "active"]
    readonly_fields = ["next_digest_at"]


@admin.register(ResidentPreference)
class ResidentPreferenceAdmin(admin.ModelAdmin):
    list_display = ["resident", "channels", "email", "language"]
    search_fields = ["resident__name", "resident__phone", "email"]
    raw_id_fields = ["resident"]
