"""The test settings with a URLconf that raises on import (see tests/exploding_urls.py)."""

from __future__ import annotations

from tests.settings import *  # noqa: F403

ROOT_URLCONF = "tests.exploding_urls"
