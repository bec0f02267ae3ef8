from django.contrib import admin

from jianjian.points.models import CollectionPoint, Slot


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
