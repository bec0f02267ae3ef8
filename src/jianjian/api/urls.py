from __future__ import annotations

from django.urls import path

from jianjian.api.idempotency import wrap_patterns
from jianjian.api.main import api

# (Not named app_name: include() would read a module-level app_name as this module's namespace.)
_patterns, _app, _namespace = api.urls
urlpatterns = [path("", (wrap_patterns(_patterns), _app, _namespace))]
