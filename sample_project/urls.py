from django.http import HttpRequest, HttpResponse
from django.urls import path


def index(request: HttpRequest) -> HttpResponse:
    return HttpResponse("django-turbo-cable sample project")


urlpatterns = [path("", index, name="index")]
