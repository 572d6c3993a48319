"""The applicant's evaluation sheet, mounted at the site root beside « Mes projets »."""

from django.urls import path

from jury.views import report as views

app_name = "sheets"
urlpatterns = [
    path("mes-projets/<int:pk>/fiche-evaluation/", views.evaluation_sheet, name="sheet"),
]
