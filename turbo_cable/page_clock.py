"""When the request a page renders for began, so its markers carry the positions their
streams had before the view read anything.

A view reads the database, then the template renders ``{% turbo_stream_from %}``: a
message broadcast in between is not in the page, and a position read at the marker
would count it as seen. Read as of the request's start instead, the message is
replayed (at worst one the page already shows is applied again, which Turbo's
actions tolerate), so nothing falls between the two.

Django's ``request_started`` signal stamps the WSGI environ or the ASGI scope (a
context variable would not outlive ``Signal.asend``, which runs receivers in tasks
of their own); the tag reads the stamp back from the request it renders for.
"""

from __future__ import annotations

import time
from typing import Any, Final

STARTED: Final = "turbo_cable.request_started"  # the environ or scope key
MAX_AGE: Final = 3600.0  # seconds: a request older than this reads positions as of then


def stamp_request_start(
    sender: Any, *, environ: Any = None, scope: Any = None, **kwargs: Any
) -> None:
    """``request_started`` receiver: the monotonic time the request began."""
    carrier = environ if environ is not None else scope
    if isinstance(carrier, dict):
        carrier[STARTED] = time.monotonic()


def request_started_at(request: Any) -> float | None:
    """The ``time.monotonic()`` ``request`` began, no more than :data:`MAX_AGE` ago;
    None without a request (a broadcast's render, a script) or for one the signal
    did not stamp."""
    if request is None:
        return None
    scope = getattr(request, "scope", None)
    carrier = scope if isinstance(scope, dict) else getattr(request, "META", None)
    started = carrier.get(STARTED) if isinstance(carrier, dict) else None
    if not isinstance(started, float):
        return None
    return max(started, time.monotonic() - MAX_AGE)
