# Console pages of this section; included by jianjian.console.urls under console/<slug>/, so
# each view takes ``slug`` and resolves the community with access.console_community_for().
from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
