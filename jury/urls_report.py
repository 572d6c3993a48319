"""The selection report and the statistics of a call (staff), mounted at /equipe/."""

from django.urls import path

from jury.views import report as views

app_name = "report"
urlpatterns = [
    path("appels/<slug:slug>/rapport/", views.report_page, name="page"),
    path("appels/<slug:slug>/rapport/generer/", views.generate, name="generate"),
    path("appels/<slug:slug>/statistiques/", views.statistics, name="statistics"),
    path("rapports/<int:pk>/etat/", views.status, name="status"),
    path("rapports/<int:pk>/telecharger/", views.download, name="download"),
]
