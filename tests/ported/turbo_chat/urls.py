from django.urls import path

from tests.ported.turbo_chat import views

app_name = "turbo_chat"
urlpatterns = [
    path("", views.RoomList.as_view(), name="room_list"),
    path("<int:pk>/", views.RoomDetail.as_view(), name="room_detail"),
    path("<int:pk>/message_create", views.MessageCreate.as_view(), name="message_create"),
    path("message/<int:pk>/edit", views.MessageUpdate.as_view(), name="message_update"),
    path("message/<int:message_id>/delete", views.message_delete, name="message_delete"),
]
