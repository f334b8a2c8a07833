"""Stream names: building them from parts, and signing them for the browser.

Broadcasts use the plain name. The page gets a signed name, so a client can only
subscribe to names the server rendered. A signed name is a bearer token: whoever
holds it may subscribe, until it is older than ``SIGNED_STREAM_MAX_AGE`` and, with
``SESSION_BOUND_STREAMS``, only with the session cookie of the page it was made for.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.core import signing
from django.utils.crypto import salted_hmac

from turbo_cable.conf import get_settings, session_cookie_name

SEPARATOR = ":"
EXPIRED = "expired"
INVALID_SIGNATURE = "invalid stream signature"
_SALT = "turbo_cable.streams"
_TIMED_SALT = "turbo_cable.streams.timed"
_SESSION_SALT = "turbo_cable.streams.session"


def _part(streamable: Any) -> str:
    # Here, not at the top: the cable process verifies names without loading the ORM.
    from django.db.models import Model

    if isinstance(streamable, Model):
        if streamable.pk is None:
            raise ValueError(
                f"Cannot build a stream name from an unsaved {type(streamable).__name__}."
            )
        return f"{streamable._meta.label_lower}{SEPARATOR}{streamable.pk}"
    if isinstance(streamable, bool) or streamable is None:
        raise TypeError(f"{streamable!r} cannot be part of a stream name.")
    if isinstance(streamable, str | int):
        text = str(streamable)
        if not text.strip():
            raise ValueError("A stream name part must not be blank.")
        return text
    to_stream_name = getattr(streamable, "to_stream_name", None)
    if callable(to_stream_name):
        return _part(to_stream_name())
    if isinstance(streamable, Iterable):
        raise TypeError(
            f"Cannot build a stream name from a {type(streamable).__name__}: pass its "
            "items as separate arguments, or one string that names the collection."
        )
    raise TypeError(
        f"Cannot build a stream name from {type(streamable).__name__}: use strings, "
        "integers, saved model instances or objects with a to_stream_name() method."
    )


def stream_name(*streamables: Any) -> str:
    """Join strings, numbers and model instances into one plain stream name.

    ``stream_name(room, "messages")`` -> ``"chat.room:1:messages"``.
    """
    if not streamables:
        raise ValueError("A stream name needs at least one part.")
    return SEPARATOR.join(_part(s) for s in streamables)


def session_binding(session_key: str | None) -> str:
    """What a session-bound name is signed for: a keyed hash of the session key, never the key.

    A request without a session gets a binding of its own, so a name rendered for a
    visitor without a session is refused to a client that has one, and vice versa.
    """
    if not session_key:
        return "no-session"
    return salted_hmac(_SESSION_SALT, session_key, algorithm="sha256").hexdigest()


def _salt(*, timed: bool, binding: str | None) -> str:
    # Each format has its own salt, so a name of one format never verifies as another.
    salt = _TIMED_SALT if timed else _SALT
    return salt if binding is None else f"{salt}.bound.{binding}"


def _signer(*, timed: bool, binding: str | None) -> signing.Signer:
    salt = _salt(timed=timed, binding=binding)
    return signing.TimestampSigner(salt=salt) if timed else signing.Signer(salt=salt)


def signed_stream_name(*streamables: Any, session_key: str | None = None) -> str:
    """The plain name with a signature, for pages; see :func:`verify_signed_stream_name`.

    With ``SIGNED_STREAM_MAX_AGE`` the signature carries the time it was made; with
    ``SESSION_BOUND_STREAMS`` it covers ``session_key`` (the page's
    ``request.session.session_key``; None for a page without a session).
    """
    settings = get_settings()
    signer = _signer(
        timed=settings.SIGNED_STREAM_MAX_AGE is not None,
        binding=session_binding(session_key) if settings.SESSION_BOUND_STREAMS else None,
    )
    return signer.sign(stream_name(*streamables))


class RejectedStreamName(Exception):
    """A name a client may not subscribe with; ``reason`` goes back in the ``reject`` frame."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _unsign(signed: str, *, timed: bool, binding: str | None) -> str | None:
    """The plain name if ``signed`` is genuine in this format, whatever its age."""
    try:
        return _signer(timed=timed, binding=binding).unsign(signed)
    except (signing.BadSignature, UnicodeEncodeError):  # a lone surrogate cannot be signed
        return None


def open_signed_stream_name(signed: str, *, session_key: str | None = None) -> str:
    """The plain name inside a signed one, or :class:`RejectedStreamName` saying why not.

    ``session_key`` is the subscribing client's (from its session cookie). A genuine
    name that the settings no longer accept as it is (older than
    ``SIGNED_STREAM_MAX_AGE``, or made before that setting or ``SESSION_BOUND_STREAMS``
    was turned on) is ``expired``: a fresh copy of the page carries one that works.
    """
    settings = get_settings()
    max_age = settings.SIGNED_STREAM_MAX_AGE
    binding = session_binding(session_key) if settings.SESSION_BOUND_STREAMS else None
    if max_age is None:
        # The current format first; then one made while SIGNED_STREAM_MAX_AGE was set.
        plain = _unsign(signed, timed=False, binding=binding)
        if plain is None:
            plain = _unsign(signed, timed=True, binding=binding)
        if plain is not None:
            return plain
    else:
        timed = signing.TimestampSigner(salt=_salt(timed=True, binding=binding))
        try:
            return timed.unsign(signed, max_age=timedelta(seconds=max_age))
        except signing.SignatureExpired:
            raise RejectedStreamName(EXPIRED) from None
        except signing.BadSignature:
            pass
        if _unsign(signed, timed=False, binding=binding) is not None:
            raise RejectedStreamName(EXPIRED)  # rendered before SIGNED_STREAM_MAX_AGE was set
    if binding is not None and any(
        _unsign(signed, timed=timed, binding=None) is not None for timed in (True, False)
    ):
        raise RejectedStreamName(EXPIRED)  # rendered before SESSION_BOUND_STREAMS was on
    raise RejectedStreamName(INVALID_SIGNATURE)


def verify_signed_stream_name(signed: str, *, session_key: str | None = None) -> str | None:
    """The plain name inside a signed one, or None when it is forged, expired or not bound
    to ``session_key``."""
    try:
        return open_signed_stream_name(signed, session_key=session_key)
    except RejectedStreamName:
        return None


def wire_stream_name(*streamables: Any, session_key: str | None = None) -> str:
    """The name a page subscribes with: signed unless ``SIGNED_STREAMS`` is off."""
    if get_settings().SIGNED_STREAMS:
        return signed_stream_name(*streamables, session_key=session_key)
    return stream_name(*streamables)


def plain_stream_name(wire: str, *, session_key: str | None = None) -> str:
    """The broadcast name for a name a client subscribed with, or :class:`RejectedStreamName`."""
    if get_settings().SIGNED_STREAMS:
        return open_signed_stream_name(wire, session_key=session_key)
    return wire


def session_key_from_cookies(cookie_header: str | None) -> str | None:
    """The session key in a handshake's ``Cookie`` header (the cable reads it only when
    ``SESSION_BOUND_STREAMS`` is on)."""
    if not cookie_header:
        return None
    # Read here rather than with django.http's parse_cookie, whose package imports the
    # ORM, forms and templates into the cable process. As there, the last one wins.
    name, found = session_cookie_name(), None
    for chunk in cookie_header.split(";"):
        key, has_value, value = chunk.partition("=")
        if has_value and key.strip() == name:
            found = value.strip()
            if len(found) > 1 and found[0] == found[-1] == '"':
                found = found[1:-1]  # quoted, which a session key never needs to be
    return found or None
