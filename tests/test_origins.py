"""Origin checks, without a server."""

from __future__ import annotations

import pytest

from turbo_cable.conf import OriginPolicy
from turbo_cable.origins import origin_allowed

POLICY = OriginPolicy(
    host_patterns=("example.com", ".example.org", "[::1]"),
    trusted_origins=("https://partner.example", "https://*.trusted.example"),
)


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (None, True),
        ("https://example.com", True),
        ("http://example.com:8000", True),
        ("HTTPS://EXAMPLE.COM", True),
        ("https://api.example.org", True),
        ("https://example.org", True),
        ("http://[::1]:8000", True),
        ("https://partner.example", True),
        ("https://a.trusted.example", True),
        ("http://a.trusted.example", False),
        ("https://evil.com", False),
        ("https://example.com.evil.com", False),
        ("null", False),
        ("file://example.com", False),
        ("", False),
    ],
)
def test_origin_allowed(origin: str | None, allowed: bool) -> None:
    assert origin_allowed(origin, POLICY) is allowed


def test_a_wildcard_host_allows_every_origin() -> None:
    assert origin_allowed("https://anything.test", OriginPolicy(("*",), ()))
