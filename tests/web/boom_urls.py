"""The product's URLs plus three that fail on purpose, to see the error pages."""

from __future__ import annotations

import sqlite3

from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.urls import path

from jianjian.urls import handler500
from jianjian.urls import urlpatterns as product

__all__ = ["handler500", "urlpatterns"]


def forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def bug(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


def disk_full(request: HttpRequest) -> HttpResponse:
    raise OperationalError("database or disk is full") from sqlite3.OperationalError("full")


urlpatterns = [
    path("boom/403/", forbidden),
    path("boom/500/", bug),
    path("boom/disk-full/", disk_full),
    *product,
]
