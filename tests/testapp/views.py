"""Views that change models, so tests can follow a broadcast from save() to a socket."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

from tests.testapp.models import Comment
from turbo_cable.broadcast import abroadcast_json


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
