from django.contrib import admin
from django.urls import include, path

from jianjian.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("jianjian.api.urls")),
    path("", include("jianjian.couriers.urls")),
    path("", include("jianjian.residents.urls")),
    path("", include("jianjian.web.urls")),
    path("", include("jianjian.ops.urls")),
    path("", include("jianjian.stocktake.urls")),
    path("", include("jianjian.reports.urls")),
    path("", include("jianjian.console.urls")),
    path("", include("jianjian.console.people.invite")),
]

# A database or disk fault answers 503 with a clear message instead of a bare 500 (issue 8).
handler500 = "jianjian.ops.views.server_error"
