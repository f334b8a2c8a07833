"""Views of the sample: plain Django forms; the live part is in the models and templates.

Forms submitted by Turbo get Turbo Streams back (the form reset, a notice or an
error in place); any other client gets the redirect it always got.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from sample_project.showcase import live_status, progress
from sample_project.showcase.models import Counter, Note, Score
from turbo_cable import accepts_turbo_stream, render_turbo_stream


def counter(request: HttpRequest) -> HttpResponse:
    current, _ = Counter.objects.get_or_create(pk=1)
    return render(request, "showcase/counter.html", {"counter": current})


@require_POST
def increment(request: HttpRequest) -> HttpResponse:
    Counter.increment()
    return redirect("counter")


def scores(request: HttpRequest) -> HttpResponse:
    return render(request, "showcase/scores.html", {"scores": Score.objects.all()})


@require_POST
def add_score(request: HttpRequest) -> HttpResponse:
    name = request.POST.get("name", "").strip()[:100]
    try:
        points = int(request.POST.get("points", "0"))
    except ValueError:
        points = 0
    score = Score.objects.create(name=name, points=points) if name else None
    if accepts_turbo_stream(request):
        # The new row reaches every page, this one included, through the broadcast.
        context = {"score": score, "error": None if score else "A score needs a name."}
        status = 200 if score else 422
        return render_turbo_stream(request, "showcase/add_score.turbo_stream.html", context, status)
    return redirect("scores")


@require_POST
def update_score(request: HttpRequest, pk: int) -> HttpResponse:
    score = get_object_or_404(Score, pk=pk)
    score.points += 1
    score.save()
    return redirect("scores")


@require_POST
def delete_score(request: HttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(Score, pk=pk).delete()
    return redirect("scores")


def progress_page(request: HttpRequest) -> HttpResponse:
    return render(request, "showcase/progress.html")


@require_POST
def start_progress(request: HttpRequest) -> HttpResponse:
    progress.start_job()
    return redirect("progress")


def notes(request: HttpRequest) -> HttpResponse:
    return render(request, "showcase/notes.html", {"notes": Note.objects.all()[:50]})


@require_POST
def add_note(request: HttpRequest) -> HttpResponse:
    text = request.POST.get("text", "").strip()[:200]
    if text:
        Note.objects.create(text=text)
    return redirect("notes")


async def status(request: HttpRequest) -> HttpResponse:
    """This process's cable, live: the figures are broadcast every second while watched."""
    from turbo_cable.backends import get_backend

    live_status.ensure_reporting()
    context = live_status.figures(get_backend(), None)
    return render(request, "showcase/status.html", context)
