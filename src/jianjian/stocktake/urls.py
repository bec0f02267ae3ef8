from django.urls import path

from jianjian.stocktake import views

app_name = "stocktake"
urlpatterns = [
    path("stocktake/point/<int:point_id>/", views.point_stocktake, name="point"),
    path("stocktake/<int:pk>/", views.session, name="session"),
    path("stocktake/<int:pk>/scan/", views.scan, name="scan"),
    path("stocktake/<int:pk>/resolve/", views.resolve, name="resolve"),
    path("stocktake/<int:pk>/report/", views.report, name="report"),
    path("stocktake/<int:pk>/<str:verb>/", views.change_status, name="status"),
    path("missing/", views.cases, name="cases"),
    path("missing/<int:pk>/", views.case_detail, name="case"),
    path("disinfection/point/<int:point_id>/", views.point_disinfection, name="disinfection"),
    path(
        "disinfection/point/<int:point_id>/<int:year>/<int:month>/",
        views.monthly_log,
        name="disinfection_month",
    ),
    path("disinfection/task/<int:task_id>/done/", views.log_done, name="log_done"),
    path("disinfection/photo/<int:log_id>/", views.photo, name="photo"),
]
