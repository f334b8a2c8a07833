"""Whether a local copy of Turbo is there for the sample's pages to load."""

from __future__ import annotations

from django.contrib.staticfiles import finders
from django.http import HttpRequest

TURBO_SCRIPT = "vendor/turbo/turbo.es2017-esm.js"


def turbo(request: HttpRequest) -> dict[str, str | None]:
    return {"turbo_script": TURBO_SCRIPT if finders.find(TURBO_SCRIPT) else None}
