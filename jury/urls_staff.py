"""The staff side of the jury, mounted at /equipe/."""

from django.urls import path

from jury.views import staff

app_name = "jury_staff"
urlpatterns = [
    path("appels/<slug:slug>/jury/", staff.jury, name="jury"),
    path("appels/<slug:slug>/jury/invitations/<int:pk>/renvoyer/", staff.resend_invitation, name="resend_invitation"),
    path("appels/<slug:slug>/jury/invitations/<int:pk>/annuler/", staff.revoke_invitation, name="revoke_invitation"),
    path("appels/<slug:slug>/jury/membres/<int:pk>/", staff.member_edit, name="member_edit"),
    path("appels/<slug:slug>/jury/membres/<int:pk>/presidence/", staff.name_chair, name="name_chair"),
    path("appels/<slug:slug>/jury/membres/<int:pk>/fin-presidence/", staff.remove_chair, name="remove_chair"),
    path("appels/<slug:slug>/jury/conflits/", staff.conflicts, name="conflicts"),
    path("appels/<slug:slug>/jury/conflits/<int:pk>/retirer/", staff.remove_conflict, name="remove_conflict"),
    path("appels/<slug:slug>/jury/expertises/", staff.expertise, name="expertise"),
    path("appels/<slug:slug>/jury/expertises/<int:pk>/", staff.proposal_expertise, name="proposal_expertise"),
    path("appels/<slug:slug>/jury/affectation/", staff.assignment, name="assignment"),
    path("appels/<slug:slug>/jury/affectation/lancer/", staff.run_assignment, name="run_assignment"),
    path("appels/<slug:slug>/jury/affectation/<int:pk>/deplacer/", staff.move_assignment, name="move_assignment"),
    path("appels/<slug:slug>/jury/suivi/", staff.progress, name="progress"),
]
