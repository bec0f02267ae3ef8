from django.urls import path

from bench.floor.scans.api import api

urlpatterns = [path("floor/", api.urls)]
