"""WSGI entry point used by ``jianjian serve``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jianjian.settings")
application = get_wsgi_application()
