from django.urls import path

from jianjian.ops import drill, views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics_view, name="metrics"),
    path("ops/drill/intake", drill.intake, name="drill-intake"),
    path("ops/drill/pickup", drill.pickup, name="drill-pickup"),
    path("ops/drill/return", drill.return_, name="drill-return"),
]
