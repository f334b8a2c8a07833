"""The Channels tutorial's chat without a consumer: the form posts here, the view broadcasts.

The consumer's ``group_send`` to ``chat_<room>`` becomes a broadcast to the
stream ``"chat", room_name``; its ``receive`` becomes this view. No model, as in
the tutorial.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from turbo_cable import TurboStreamResponse, accepts_turbo_stream, broadcast_append_to
from turbo_cable import stream_actions as turbo_stream


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "channels_chat/index.html")


def room(request: HttpRequest, room_name: str) -> HttpResponse:
    return render(request, "channels_chat/room.html", {"room_name": room_name})


@require_POST
def send(request: HttpRequest, room_name: str) -> HttpResponse:
    message = request.POST.get("message", "")
    if message:
        broadcast_append_to(
            "chat",
            room_name,
            target="chat-log",
            template="channels_chat/_message.html",
            context={"message": message},
        )
    if accepts_turbo_stream(request):  # Turbo submitted the form: reset it in place
        return TurboStreamResponse(
            turbo_stream.replace(
                "chat-form",
                template="channels_chat/_form.html",
                context={"room_name": room_name},
                request=request,
            )
        )
    return redirect("channels_chat:room", room_name=room_name)
