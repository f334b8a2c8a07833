"""The cable's own HTTP/1.1 and WebSocket server, what ``manage.py runcable`` runs.

It serves an ASGI application, so the cable's routes run here exactly as under
any ASGI server, but it takes only what the cable needs: the WebSocket handshake
and RFC 6455 frames (:mod:`.frames`), short HTTP/1.1 requests (:mod:`.http11`),
and the bounds of :mod:`turbo_cable.uvicorn_protocol`. Without a general-purpose
server underneath, a process idles in less memory than a bare ``websockets``
server, holds each idle socket in less, and needs nothing outside the standard
library (uvloop is used when installed). See docs/performance.rst.
"""
