"""Pages the browser tests load: real templates using the real tag and client."""

from __future__ import annotations

import time
from pathlib import Path

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.utils.html import format_html
from django.views.static import serve

from turbo_cable.backends import get_backend

ROOT = Path(__file__).resolve().parents[2]
CLIENT_DIR = ROOT / "turbo_cable" / "static"
NPM_DIR = ROOT / "tests" / ".js" / "node_modules"


def _flag(request: HttpRequest, name: str) -> bool:
    return request.GET.get(name) == "1"


def page(request: HttpRequest) -> HttpResponse:
    """A page on the streams named in ``?streams=a,b``; ``?turbo=1``/``?stimulus=1`` load those.

    ``?session=1`` writes to the visitor's session, which creates one on the first visit.
    """
    streams = [s for s in request.GET.get("streams", "").split(",") if s]
    if _flag(request, "session"):
        request.session["visits"] = request.session.get("visits", 0) + 1
    return render(
        request,
        "browserapp/page.html",
        {
            "streams": streams,
            "turbo": _flag(request, "turbo"),
            "stimulus": _flag(request, "stimulus"),
            "meta": _flag(request, "meta"),
            "morph": _flag(request, "morph"),
        },
    )


_frozen: dict[str, bytes] = {}


def frozen(request: HttpRequest) -> HttpResponse:
    """:func:`page` as first rendered for this query, served again on every visit, as a
    cache in front of the site would."""
    query = request.GET.urlencode()
    if query not in _frozen:
        _frozen[query] = page(request).content
    return HttpResponse(_frozen[query])


def rails_markers(request: HttpRequest) -> HttpResponse:
    """The markers the Rails engine's helper renders: ``?streams=a,b``, ``?cable=<ws url>``."""
    return render(
        request,
        "browserapp/rails.html",
        {"streams": request.GET.get("streams", ""), "cable": request.GET.get("cable")},
    )


def navigation(request: HttpRequest, name: str) -> HttpResponse:
    """Pages a and b share the stream "nav"; page c has no stream."""
    if request.COOKIES.get("slow"):  # lets a test watch Turbo's preview of a cached page
        time.sleep(float(request.COOKIES["slow"]))
    response = render(
        request,
        "browserapp/navigation.html",
        {"name": name, "streams": ["nav"] if name in ("a", "b") else []},
    )
    if request.COOKIES.get("late"):  # rendered now, delivered after live messages overtake it
        print(f"rendered page {name}, delivering it late", flush=True)
        time.sleep(float(request.COOKIES["late"]))
    return response


def frame(request: HttpRequest) -> HttpResponse:
    return render(request, "browserapp/frame.html")


async def say(request: HttpRequest) -> HttpResponse:
    """Broadcast the posted text to ``stream``, as a chat message would be."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    html = format_html(
        '<turbo-stream action="append" target="messages">'
        '<template><p class="message">{}</p></template></turbo-stream>',
        request.POST["text"],
    )
    await get_backend().publish(request.POST["stream"], str(html))
    return HttpResponse(status=204)


def client_file(request: HttpRequest, path: str) -> HttpResponse:
    return serve(request, path, document_root=CLIENT_DIR)


def npm_file(request: HttpRequest, path: str) -> HttpResponse:
    return serve(request, path, document_root=NPM_DIR)
