"""Settings of the floor: the database from FLOOR_DATABASE_URL, persistent connections like
jianjian's, no middleware beyond what a JSON API needs."""

from __future__ import annotations

import os

import dj_database_url

SECRET_KEY = "floor-bench-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["bench.floor.scans.apps.ScansConfig"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "bench.floor.urls"
WSGI_APPLICATION = "bench.floor.wsgi.application"
DATABASES = {
    "default": {
        **dj_database_url.parse(
            os.environ.get("FLOOR_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/floor"),
            conn_max_age=60,
        ),
        "CONN_HEALTH_CHECKS": True,
    }
}
# No migration files: `migrate --run-syncdb` creates the three tables.
MIGRATION_MODULES = {"floor_scans": None}
USE_TZ = True
TIME_ZONE = "UTC"
