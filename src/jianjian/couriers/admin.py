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
