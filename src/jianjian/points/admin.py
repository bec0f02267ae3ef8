from django.contrib import admin

from jianjian.points.models import CollectionPoint, DisinfectionLog, DisinfectionTask, Slot


class SlotInline(admin.TabularInline):
    model = Slot
    extra = 0
    fields = ["shelf", "tier", "is_compartment", "size", "active"]


@admin.register(CollectionPoint)
class CollectionPointAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "daily_capacity", "opening_hours", "on_hand", "active"]
    list_filter = ["community", "kind", "active"]
    readonly_fields = ["on_hand"]
    inlines = [SlotInline]

    def save_formset(self, request, form, formset, change):  # type: ignore[no-untyped-def]
        for obj in formset.save(commit=False):
            obj.community_id = form.instance.community_id
            obj.save()
        for obj in formset.deleted_objects:
            obj.delete()


@admin.register(DisinfectionTask)
class DisinfectionTaskAdmin(admin.ModelAdmin):
    list_display = [
        "point",
        "name",
        "interval_hours",
        "starts_at",
        "ends_at",
        "next_due_at",
        "active",
    ]
    list_filter = ["community", "point", "active"]
    readonly_fields = ["next_due_at", "community"]

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        from jianjian.points.disinfection import next_due

        obj.community_id = obj.point.community_id
        if obj.next_due_at is None:
            obj.next_due_at = next_due(obj, None)
        super().save_model(request, obj, form, change)


@admin.register(DisinfectionLog)
class DisinfectionLogAdmin(admin.ModelAdmin):
    list_display = ["done_at", "point", "task", "done_by_label", "agent", "on_time"]
    list_filter = ["community", "point", "on_time"]
    date_hierarchy = "done_at"

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # the log is a record: it is added by the clerks, never edited
