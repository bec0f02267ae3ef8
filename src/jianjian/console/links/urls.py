# Console pages of this section; included by jianjian.console.urls under console/<slug>/, so
# each view takes ``slug`` and resolves the community with access.console_community_for().
from django.urls import path

from jianjian.console.links import views

urlpatterns = [
    path("links/", views.link_list, name="links"),
    path(
        "links/<int:pk>/<str:verb>/",
        views.link_decide,
        name="link_decide",
    ),
]
