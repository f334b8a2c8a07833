from django.urls import path

from tests.testapp import views

urlpatterns = [
    path("comments/", views.create_comment),
    path("announce/", views.announce),
    path("log-in/", views.log_in),
    path("changed-while-rendering/", views.changed_while_rendering),
]
