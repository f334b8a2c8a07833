"""The ASGI application the test servers run."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

from turbo_cable.asgi import get_asgi_application

application = get_asgi_application()
