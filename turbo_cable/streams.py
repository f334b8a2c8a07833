"""Stream names: building them from parts, and signing them for the browser.

Broadcasts use the plain name. The page gets a signed name so that a browser can
only subscribe to streams the server rendered for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core import signing
from django.db.models import Model

from turbo_cable.conf import get_settings

SEPARATOR = ":"
_SALT = "turbo_cable.streams"


def _part(streamable: Any) -> str:
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


def _signer() -> signing.Signer:
    return signing.Signer(salt=_SALT)


def signed_stream_name(*streamables: Any) -> str:
    """The plain name with a signature, for pages; see :func:`verify_signed_stream_name`."""
    return _signer().sign(stream_name(*streamables))


def verify_signed_stream_name(signed: str) -> str | None:
    """The plain name inside a signed one, or None when the signature is forged."""
    try:
        return _signer().unsign(signed)
    except (signing.BadSignature, UnicodeEncodeError):  # a lone surrogate cannot be signed
        return None


def wire_stream_name(*streamables: Any) -> str:
    """The name a page subscribes with: signed unless ``SIGNED_STREAMS`` is off."""
    if get_settings().SIGNED_STREAMS:
        return signed_stream_name(*streamables)
    return stream_name(*streamables)


def plain_stream_name(wire: str) -> str | None:
    """The broadcast name for a name a client subscribed with, or None if it is forged."""
    if get_settings().SIGNED_STREAMS:
        return verify_signed_stream_name(wire)
    return wire
