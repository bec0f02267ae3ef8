from django.urls import path

from jianjian.reports import views

app_name = "reports"
urlpatterns = [
    path("reports/", views.index, name="index"),
    path("reports/<slug:slug>/", views.dashboard, name="dashboard"),
    path("reports/<slug:slug>/export/<str:dataset>.<str:fmt>", views.export, name="export"),
]
