"""Origin checks, without a server."""

from __future__ import annotations

import dataclasses

import pytest

from turbo_cable.conf import OriginPolicy
from turbo_cable.origins import origin_allowed, site_origins, split_domain_port, validate_host

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


DERIVED = OriginPolicy(
    host_patterns=(),
    trusted_origins=("http://localhost:8000", "https://*.trusted.example:8443"),
    allowed_hosts=("localhost", ".example.com", "[::1]"),
    same_origin=True,
)


def handshake(host: str, scheme: str = "ws", **headers: str) -> dict[str, object]:
    raw = [(b"host", host.encode())]
    raw += [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()]
    return {"type": "websocket", "scheme": scheme, "headers": raw}


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://app.example.com:8000", True),
        ("HTTP://APP.EXAMPLE.COM:8000", True),
        ("http://app.example.com", False),
        ("http://app.example.com:1", False),
        ("https://app.example.com:8000", False),
        ("http://other.example.com:8000", False),
        ("http://localhost:8000", True),  # a trusted origin
        ("http://LOCALHOST:9999", False),
        ("https://localhost", False),
        ("http://localhost:1", False),
        ("https://a.trusted.example:8443", True),
        ("https://a.trusted.example", False),
    ],
)
def test_an_origin_is_the_sites_own_or_trusted_with_scheme_and_port(
    origin: str, allowed: bool
) -> None:
    site = site_origins(handshake("app.example.com:8000"), DERIVED)
    assert site == ("http://app.example.com:8000",)
    assert origin_allowed(origin, DERIVED, site) is allowed


@pytest.mark.parametrize(
    ("scope", "site"),
    [
        (handshake("example.com"), ("http://example.com",)),
        (handshake("example.com:80"), ("http://example.com",)),
        (handshake("example.com:443", "wss"), ("https://example.com",)),
        (handshake("[::1]:8000"), ("http://[::1]:8000",)),
        (handshake("evil.example"), ()),  # not in ALLOWED_HOSTS
        (handshake(""), ()),
        ({"type": "websocket", "scheme": "ws", "headers": []}, ()),
        # daphne's WebSocket scope has no scheme: either, for that host and port
        ({"type": "websocket", "headers": [(b"host", b"example.com:8000")]},
         ("http://example.com:8000", "https://example.com:8000")),
    ],
)  # fmt: skip
def test_the_sites_origin_comes_from_the_scheme_and_an_allowed_host(
    scope: dict[str, object], site: tuple[str, ...]
) -> None:
    assert site_origins(scope, DERIVED) == site


def test_a_proxys_word_on_the_scheme_counts_as_django_settings_say() -> None:
    proxied = dataclasses.replace(
        DERIVED, secure_proxy_ssl_header=("HTTP_X_FORWARDED_PROTO", "https")
    )
    scope = handshake("example.com", X_Forwarded_Proto="https, http")
    assert site_origins(scope, proxied) == ("https://example.com",)
    assert site_origins(scope, DERIVED) == ("http://example.com",)
    scope = handshake("example.com", "wss", X_Forwarded_Proto="http")
    assert site_origins(scope, proxied) == ("http://example.com",)
    forwarded_host = dataclasses.replace(DERIVED, use_x_forwarded_host=True)
    scope = handshake("127.0.0.1:8000", X_Forwarded_Host="app.example.com")
    assert site_origins(scope, forwarded_host) == ("http://app.example.com",)
    assert site_origins(scope, DERIVED) == ()


def test_allowed_origins_replaces_the_sites_own_origin() -> None:
    configured = dataclasses.replace(DERIVED, same_origin=False)
    assert site_origins(handshake("app.example.com"), configured) == ()


@pytest.mark.parametrize(
    "host",
    [
        "example.com",
        "Example.COM:8000",
        "example.com.",
        "example.com.:443",
        "[::1]",
        "[::1]:8000",
        "[1.2.3.4]",
        "127.0.0.1:80",
        "exa mple.com",
        "example.com:80:80",
        "example.com:http",
        "",
        "[::1",
        "évil.com",
    ],
)
def test_hosts_are_split_and_matched_as_django_does(host: str) -> None:
    """The cable checks ``Host`` itself: django.http would load the ORM into runcable."""
    from django.http.request import split_domain_port as django_split
    from django.http.request import validate_host as django_validate

    assert split_domain_port(host) == django_split(host)
    domain = split_domain_port(host)[0]
    for allowed in (["example.com"], [".example.com"], ["*"], ["[::1]"], []):
        assert validate_host(domain, allowed) is django_validate(domain, allowed)
