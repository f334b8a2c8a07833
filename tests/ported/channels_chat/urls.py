from django.urls import path

from tests.ported.channels_chat import views

app_name = "channels_chat"
urlpatterns = [
    path("", views.index, name="index"),
    path("<str:room_name>/", views.room, name="room"),
    path("<str:room_name>/send/", views.send, name="send"),
]
