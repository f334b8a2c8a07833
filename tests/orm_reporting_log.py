"""A log handler that says, after each line, whether its process has imported the ORM.

For the settings in tests/settings_orm_reported.py: the line ``turbo_cable started
...`` then tells what a server process loaded before it served anyone.
"""

from __future__ import annotations

import logging
import sys

ORM = "django.db.models"


class OrmReportingHandler(logging.StreamHandler):  # type: ignore[type-arg]
    def format(self, record: logging.LogRecord) -> str:
        state = "imported" if ORM in sys.modules else "not imported"
        return f"{super().format(record)} [{ORM} {state}]"
