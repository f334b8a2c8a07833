from django.urls import path

from sample_project.showcase import views

urlpatterns = [
    path("", views.counter, name="counter"),
    path("increment/", views.increment, name="increment"),
    path("scores/", views.scores, name="scores"),
    path("scores/add/", views.add_score, name="add-score"),
    path("scores/<int:pk>/update/", views.update_score, name="update-score"),
    path("scores/<int:pk>/delete/", views.delete_score, name="delete-score"),
    path("progress/", views.progress_page, name="progress"),
    path("progress/start/", views.start_progress, name="start-progress"),
    path("notes/", views.notes, name="notes"),
    path("notes/add/", views.add_note, name="add-note"),
    path("status/", views.status, name="status"),
]
