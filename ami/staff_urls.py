"""The staff area, mounted at /equipe/: the calls and their set-up."""

from django.urls import path

from ami import staff_views

app_name = "staff"
urlpatterns = [
    path("", staff_views.home, name="home"),
    path("appels/", staff_views.calls, name="calls"),
    path("appels/nouveau/", staff_views.call_create, name="call_create"),
    path("appels/<slug:slug>/", staff_views.call_overview, name="call"),
    path("appels/<slug:slug>/parametres/", staff_views.call_edit, name="call_edit"),
    path("appels/<slug:slug>/copier/", staff_views.call_clone, name="call_clone"),
    path("appels/<slug:slug>/parcours/", staff_views.tracks, name="tracks"),
    path("appels/<slug:slug>/criteres/", staff_views.criteria, name="criteria"),
    path("appels/<slug:slug>/recevabilite/", staff_views.questions, name="questions"),
    path("appels/<slug:slug>/phase/", staff_views.call_transition, name="call_transition"),
]
