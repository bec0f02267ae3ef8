"""WSGI entry point used by ``jianjian serve``."""

import os
import signal

from django.core.wsgi import get_wsgi_application

from jianjian.ops.lifeline import follow_parent

# A granian worker of `jianjian serve` ends when serve does. With SIGKILL, not SIGTERM: a worker is
# forked with the server's own SIGTERM handler and keeps it until granian sets the worker's, so a
# SIGTERM arriving meanwhile would be lost and the worker would serve on as an orphan. Serve has
# been killed outright at that point anyway; an unfinished request's transaction rolls back.
follow_parent(signal.SIGKILL)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jianjian.settings")
application = get_wsgi_application()
