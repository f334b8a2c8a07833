"""WSGI entry point of the sample project, for the pages only (``gunicorn sample_project.wsgi``).

WSGI cannot hold a WebSocket: run ``manage.py runcable`` beside it and point the
pages at it with ``TURBO_CABLE_CABLE_URL`` (see sample_project/settings.py).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sample_project.settings")

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
