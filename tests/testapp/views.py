"""Views that change models, so tests can follow a broadcast from save() to a socket."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import RequestContext, Template

from tests.testapp.models import Comment
from turbo_cable.broadcast import abroadcast_json, broadcast


def create_comment(request: HttpRequest) -> HttpResponse:
    comment = Comment.objects.create(body=request.POST.get("body", ""))
    return JsonResponse({"pk": comment.pk}, status=201)


async def announce(request: HttpRequest) -> HttpResponse:
    """An async view: the broadcast is awaited on the server's own event loop."""
    delivered = await abroadcast_json("announcements", {"text": request.GET.get("text", "")})
    return JsonResponse({"delivered": delivered})


def log_in(request: HttpRequest) -> HttpResponse:
    """Log in as ``?username=`` (made if new): a real session for the cable to read."""
    from django.contrib.auth import login
    from django.contrib.auth.models import User

    user, _ = User.objects.get_or_create(username=request.GET["username"])
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return JsonResponse({"pk": user.pk})


PAGE = Template("{% load turbo_cable %}{% turbo_stream_from stream %}")


def changed_while_rendering(request: HttpRequest) -> HttpResponse:
    """A page whose stream gets a message after the view read its data and before the
    marker renders, as when another request saves in between."""
    stream = request.GET["stream"]
    assert broadcast(stream, "<p>sent while the page rendered</p>")
    return HttpResponse(PAGE.render(RequestContext(request, {"stream": stream})))
