from django.urls import path

from jianjian.residents import staff_views, views

app_name = "residents"

urlpatterns = [
    path("me/signin/", views.signin, name="signin"),
    path("me/signin/code/", views.signin_code, name="signin_code"),
    path("me/signout/", views.signout, name="signout"),
    path("me/", views.home, name="home"),
    path("me/qr/<str:kind>/<int:pk>/", views.qr_fragment, name="qr"),
    path("me/parcels/<int:pk>/", views.parcel_detail, name="parcel"),
    path("me/parcels/<int:parcel_pk>/report/", views.case_new, name="case_new"),
    path("me/proxies/", views.proxy_list, name="proxies"),
    path("me/proxies/<int:pk>/revoke/", views.proxy_revoke, name="proxy_revoke"),
    path("me/preferences/", views.preferences, name="preferences"),
    path("me/flat/", views.link_flat, name="link"),
    path("me/reports/", views.case_list, name="cases"),
    path("me/reports/<int:pk>/", views.case_detail, name="case"),
    path("cases/", staff_views.case_list, name="staff_cases"),
    path("cases/<int:pk>/", staff_views.case_detail, name="staff_case"),
]
