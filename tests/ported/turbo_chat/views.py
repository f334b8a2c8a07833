"""turbo-django's chat views: ``TurboStreamResponse`` for ``render_frame(...).response``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, DetailView, ListView, UpdateView

from tests.ported.turbo_chat.models import Message, Room
from turbo_cable import TurboStreamResponse, accepts_turbo_stream, dom_id
from turbo_cable import stream_actions as turbo_stream


class RoomForm(forms.ModelForm):
    class Meta:
        model = Room
        fields = ["name"]


class RoomList(ListView):
    model = Room
    context_object_name = "rooms"
    template_name = "turbo_chat/room_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "form": RoomForm()}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = RoomForm(request.POST)
        if form.is_valid():
            form.save()  # Room.broadcasts appends it to every room list
            form = RoomForm()
        # render_frame(request, template, {"form": form}).replace(id="create-room-form").response
        return TurboStreamResponse(
            turbo_stream.replace(
                "create-room-form",
                template="turbo_chat/_create_room_form.html",
                context={"form": form},
                request=request,
            )
        )


class RoomDetail(DetailView):
    model = Room
    context_object_name = "room"
    template_name = "turbo_chat/room_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "rooms": Room.objects.all()}


class MessageCreate(CreateView):
    model = Message
    fields = ["text"]
    template_name = "turbo_chat/_send_message_form.html"

    def get_success_url(self) -> str:
        return reverse("turbo_chat:message_create", kwargs={"pk": self.kwargs["pk"]})

    def form_valid(self, form: forms.ModelForm) -> HttpResponse:
        form.instance.room = get_object_or_404(Room, pk=self.kwargs["pk"])
        return super().form_valid(form)


class MessageUpdate(UpdateView):
    model = Message
    fields = ["text"]
    template_name = "turbo_chat/_send_message_form.html"

    def get_success_url(self) -> str:
        return reverse("turbo_chat:message_create", kwargs={"pk": self.object.room_id})


@require_POST
def message_delete(request: HttpRequest, message_id: int) -> HttpResponse:
    message = get_object_or_404(Message, pk=message_id)
    target, room_id = dom_id(message), message.room_id  # the pk is gone after delete()
    message.delete()  # Message.broadcasts_to removes it from every page on the room
    if accepts_turbo_stream(request):
        return TurboStreamResponse(turbo_stream.remove(target))
    return redirect("turbo_chat:room_detail", pk=room_id)
