from django.urls import include, path

from jianjian.console import views

app_name = "console"
urlpatterns = [
    path("console/", views.choose, name="choose"),
    path("console/<slug:slug>/", views.index, name="index"),
    path("console/<slug:slug>/audit/", views.audit_log, name="audit"),
    path("console/<slug:slug>/", include("jianjian.console.people.urls")),
    path("console/<slug:slug>/", include("jianjian.console.operations.urls")),
    path("console/<slug:slug>/", include("jianjian.console.links.urls")),
]
