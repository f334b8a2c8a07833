"""Hotwire Turbo Streams over WebSockets for Django, without Channels."""

__version__ = "0.1.0"
