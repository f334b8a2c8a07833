"""``POST /_broadcast`` for the Channels peer: a plain async view doing ``group_send``."""

from __future__ import annotations

import json

from channels.layers import get_channel_layer
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from benchmarks.channels_peer.consumers import group_name


@csrf_exempt
async def broadcast(request: HttpRequest) -> HttpResponse:
    payload = json.loads(request.body)
    stream = payload["stream"]
    await get_channel_layer().group_send(
        group_name(stream), {"type": "cable.message", "stream": stream, "data": payload["data"]}
    )
    return JsonResponse({"recipients": None})


def index(request: HttpRequest) -> HttpResponse:
    return HttpResponse("channels peer")


urlpatterns = [path("_broadcast", broadcast), path("", index)]
