"""ASGI entry point of the sample project (``uvicorn sample_project.asgi:application``)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sample_project.settings")

from turbo_cable.asgi import get_asgi_application

application = get_asgi_application()
