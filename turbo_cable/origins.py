"""Which browser origins may open the cable, to stop cross-site WebSocket hijacking.

Browsers always send ``Origin`` on a WebSocket handshake; a request without one
did not come from a browser, so no other site's page can have made it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.utils.http import is_same_domain

from turbo_cable.conf import OriginPolicy


def _matches_trusted(origin: str, trusted: str) -> bool:
    if trusted == origin:
        return True
    scheme, _, host = trusted.partition("://")
    if not host.startswith("*."):
        return False
    parsed = urlsplit(origin)
    return parsed.scheme == scheme and is_same_domain(parsed.netloc, host[1:])


def origin_allowed(origin: str | None, policy: OriginPolicy) -> bool:
    """True when ``origin`` may open the cable under ``policy``."""
    if origin is None:
        return True
    if "*" in policy.host_patterns:
        return True
    origin = origin.strip().lower()
    if any(_matches_trusted(origin, trusted.lower()) for trusted in policy.trusted_origins):
        return True
    parsed = urlsplit(origin)
    hostname = parsed.hostname
    if not hostname or parsed.scheme not in ("http", "https"):
        return False
    if ":" in hostname:  # IPv6, written in ALLOWED_HOSTS with brackets
        hostname = f"[{hostname}]"
    return any(
        pattern == "*" or is_same_domain(hostname, pattern.lower())
        for pattern in policy.host_patterns
    )
