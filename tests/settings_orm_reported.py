"""The test settings, with every ``turbo_cable`` log line saying whether the ORM is loaded."""

from __future__ import annotations

from tests.settings import *  # noqa: F403

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "tests.orm_reporting_log.OrmReportingHandler"}},
    "loggers": {"turbo_cable": {"handlers": ["console"], "level": "DEBUG"}},
}
