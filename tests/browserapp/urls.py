from __future__ import annotations

from django.urls import path, re_path

from tests.browserapp import views

urlpatterns = [
    path("page/", views.page),
    path("frozen/", views.frozen),
    path("rails/", views.rails_markers),
    path("nav/<str:name>/", views.navigation),
    path("frame/", views.frame),
    path("say/", views.say),
    re_path(r"^client/(?P<path>.+)$", views.client_file),
    re_path(r"^npm/(?P<path>.+)$", views.npm_file),
]
