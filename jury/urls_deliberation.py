"""The deliberation (chair of the call's jury and staff) and the audit trail (staff), mounted at /equipe/."""

from django.urls import path

from jury.views import deliberation as views

app_name = "deliberation"
urlpatterns = [
    path("appels/<slug:slug>/deliberation/", views.board, name="board"),
    path("appels/<slug:slug>/deliberation/reglages/", views.save_settings, name="settings"),
    path("appels/<slug:slug>/deliberation/selection/", views.selection, name="selection"),
    path("appels/<slug:slug>/deliberation/appliquer/", views.apply_optimal, name="apply_optimal"),
    path("appels/<slug:slug>/deliberation/projets/<int:pk>/", views.proposal, name="proposal"),
    path("appels/<slug:slug>/deliberation/projets/<int:pk>/decision/", views.decide, name="decide"),
    path("appels/<slug:slug>/deliberation/arreter/", views.lock, name="lock"),
    path("appels/<slug:slug>/deliberation/proces-verbal/", views.minutes, name="minutes"),
    path("appels/<slug:slug>/deliberation/proces-verbal/imprimer/", views.minutes_print, name="minutes_print"),
    path("journal/", views.journal, name="journal"),
]
