"""Which browser origins may open the cable, to stop cross-site WebSocket hijacking.

As Django's CSRF origin check does, an origin is allowed when it is the site's own
(the scheme, host and port the request was addressed to, the host passing
``ALLOWED_HOSTS``) or one of ``CSRF_TRUSTED_ORIGINS``, scheme and port included.
``ALLOWED_ORIGINS`` replaces both. Browsers always send ``Origin`` on a WebSocket
handshake; a request without one did not come from a browser, so no other site's
page can have made it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Iterable
from urllib.parse import urlsplit

from django.utils.http import is_same_domain

from turbo_cable.asgi_types import Scope
from turbo_cable.conf import OriginPolicy

_DEFAULT_PORTS = {"http": 80, "https": 443}
# A ``Host``: a name of letters, digits, dots and hyphens, or an IPv6 address in
# brackets, then an optional port. Checked here rather than with django.http's helpers,
# whose package imports the ORM, forms and templates into the cable process.
_HOST = re.compile(r"(?P<domain>[a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9.:]+\])(?::(?P<port>[0-9]+))?")


def split_domain_port(host: str) -> tuple[str, str]:
    """``Host`` as (domain in lower case without a final dot, port); empty when malformed."""
    match = _HOST.fullmatch(host.lower())
    if match is None:
        return "", ""
    return match["domain"].removesuffix("."), match["port"] or ""


def validate_host(domain: str, allowed_hosts: Iterable[str]) -> bool:
    """``domain`` matches one of ``allowed_hosts`` as Django reads that setting."""
    return any(pattern == "*" or is_same_domain(domain, pattern) for pattern in allowed_hosts)


def request_headers(scope: Scope) -> dict[bytes, str]:
    """The request's headers by lower-case name (the last of repeated ones)."""
    return {bytes(key): bytes(value).decode("latin-1") for key, value in scope.get("headers", ())}


def _normalized(origin: str) -> str | None:
    """``scheme://host[:port]`` in lower case, without the scheme's default port."""
    try:
        parsed = urlsplit(origin.strip().lower())
        port = parsed.port
    except ValueError:
        return None
    host = parsed.hostname
    if parsed.scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:  # IPv6
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[parsed.scheme]:
        return f"{parsed.scheme}://{host}"
    return f"{parsed.scheme}://{host}:{port}"


def _matches_trusted(origin: str, trusted: str) -> bool:
    """Exact, or ``scheme://*.domain[:port]`` for subdomains (port compared when given)."""
    scheme, _, netloc = trusted.lower().partition("://")
    if netloc.startswith("*."):
        pattern = netloc[1:].removesuffix(f":{_DEFAULT_PORTS.get(scheme)}")
        parsed = urlsplit(origin)
        return parsed.scheme == scheme and is_same_domain(parsed.netloc, pattern)
    return origin == _normalized(trusted)


def _matches_host_pattern(origin: str, patterns: Iterable[str]) -> bool:
    """A bare host pattern of ``ALLOWED_ORIGINS``: that host at any scheme and port."""
    hostname = urlsplit(origin).hostname or ""
    if ":" in hostname:  # IPv6, written with brackets
        hostname = f"[{hostname}]"
    return any(is_same_domain(hostname, pattern.lower()) for pattern in patterns)


def _is_secure(scope: Scope, headers: dict[bytes, str], policy: OriginPolicy) -> bool | None:
    """As ``HttpRequest.is_secure()``; None when neither the server nor a proxy says."""
    if policy.secure_proxy_ssl_header is not None:
        name, secure_value = policy.secure_proxy_ssl_header
        header = name.removeprefix("HTTP_").lower().replace("_", "-").encode()
        if header in headers:
            return headers[header].split(",", 1)[0].strip() == secure_value
    scheme = scope.get("scheme")
    if scheme is None:  # daphne leaves it out of WebSocket scopes
        return None
    return bool(scheme in ("https", "wss"))


def site_origins(scope: Scope, policy: OriginPolicy) -> tuple[str, ...]:
    """The origin the request was addressed to, when the site serves its host.

    The host is ``Host`` (or ``X-Forwarded-Host`` under ``USE_X_FORWARDED_HOST``)
    and must pass ``ALLOWED_HOSTS``. The scheme is https when the
    ``SECURE_PROXY_SSL_HEADER`` says so, else when the server does (``wss``,
    which uvicorn rewrites from ``X-Forwarded-Proto``); a server that does not
    say (daphne) leaves both schemes of that host and port.
    """
    if not policy.same_origin:
        return ()
    headers = request_headers(scope)
    host = headers.get(b"host", "")
    if policy.use_x_forwarded_host and b"x-forwarded-host" in headers:
        host = headers[b"x-forwarded-host"].split(",", 1)[0].strip()
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, policy.allowed_hosts):
        return ()
    secure = _is_secure(scope, headers, policy)
    schemes = ("http", "https") if secure is None else ("https",) if secure else ("http",)
    return tuple(o for scheme in schemes if (o := _normalized(f"{scheme}://{host}")))


def origin_allowed(origin: str | None, policy: OriginPolicy, site: Collection[str] = ()) -> bool:
    """True when ``origin`` may open the cable under ``policy`` for a request to ``site``."""
    if origin is None:
        return True
    if "*" in policy.host_patterns:
        return True
    normalized = _normalized(origin)
    if normalized is None:
        return False
    if normalized in site:
        return True
    if any(_matches_trusted(normalized, trusted) for trusted in policy.trusted_origins):
        return True
    return _matches_host_pattern(normalized, policy.host_patterns)


def is_loopback_host(host: str) -> bool:
    """``localhost`` or a loopback address, with or without a port."""
    domain, _ = split_domain_port(host)
    if domain == "localhost":
        return True
    try:
        return ipaddress.ip_address(domain.strip("[]")).is_loopback
    except ValueError:
        return False


def host_allowed(host: str, policy: OriginPolicy) -> bool:
    """The request's ``Host`` is a loopback name or one the site serves (``ALLOWED_HOSTS``)."""
    if is_loopback_host(host):
        return True
    domain, _ = split_domain_port(host)
    return bool(domain) and validate_host(domain, policy.allowed_hosts)
