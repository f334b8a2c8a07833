"""``runcable``'s application as a module, so any ASGI server can serve it by import path.

``manage.py runcable`` builds the same application and hands it to uvicorn itself;
the server candidates (granian, hypercorn, uvicorn's other WebSocket layers) import
it from here instead, with ``DJANGO_SETTINGS_MODULE`` set by the harness.
"""

from __future__ import annotations

import django

from turbo_cable.standalone import get_cable_application

django.setup(set_prefix=False)
application = get_cable_application()
