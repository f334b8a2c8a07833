from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("django says hello")


urlpatterns = [
    path("", home),
    path("browser/", include("tests.browserapp.urls")),
    path("testapp/", include("tests.testapp.urls")),
    path("chat/", include("tests.ported.channels_chat.urls")),
    path("turbo-chat/", include("tests.ported.turbo_chat.urls")),
]
