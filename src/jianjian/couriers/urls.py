from django.urls import path

from jianjian.couriers import views

app_name = "couriers"
urlpatterns = [
    path("courier/", views.home, name="home"),
    path("courier/manifest/", views.upload, name="upload"),
    path("courier/plan/<slug:slug>.csv", views.plan_csv, name="plan_csv"),
    path("courier/parcel/<int:parcel_id>/end/", views.end_preadvice, name="end"),
]
