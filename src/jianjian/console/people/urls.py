# Console pages of this section; included by jianjian.console.urls under console/<slug>/, so
# each view takes ``slug`` and resolves the community with access.console_community_for().
from django.urls import path

from jianjian.console.people import roster_views, staff_views, views

urlpatterns = [
    path("community/", views.community, name="community"),
    path("flats/", views.flats, name="flats"),
    path("flats/<int:pk>/", views.flat_edit, name="flat_edit"),
    path("buildings/<int:pk>/", views.building_edit, name="building_edit"),
    path("residents/", views.residents, name="residents"),
    path("residents/new/", views.resident_add, name="resident_add"),
    path("residents/<int:pk>/", views.resident_edit, name="resident_edit"),
    path("residents/<int:pk>/active/", views.resident_active, name="resident_active"),
    path("roster/", roster_views.upload, name="roster"),
    path("roster/<int:pk>/", roster_views.preview, name="roster_preview"),
    path("staff/", staff_views.staff, name="staff"),
    path("staff/<int:pk>/link/", staff_views.staff_link, name="staff_link"),
    path("staff/<int:pk>/deactivate/", staff_views.staff_deactivate, name="staff_deactivate"),
    path("couriers/", staff_views.couriers, name="staff_couriers"),
    path("couriers/<int:pk>/link/", staff_views.courier_link, name="courier_link"),
    path(
        "couriers/<int:pk>/deactivate/",
        staff_views.courier_deactivate,
        name="courier_deactivate",
    ),
]
