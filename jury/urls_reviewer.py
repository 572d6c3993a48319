"""The juror's pages, mounted at /jury/."""

from django.urls import path

from jury.views import invitations, reviewer

app_name = "jury"
urlpatterns = [
    path("", reviewer.home, name="home"),
    path("invitation/<str:token>/", invitations.accept_invitation, name="accept_invitation"),
    path("<slug:slug>/", reviewer.dashboard, name="dashboard"),
    path("<slug:slug>/charte/", reviewer.charter, name="charter"),
    path("<slug:slug>/projets/<int:pk>/", reviewer.proposal, name="proposal"),
    path("<slug:slug>/projets/<int:pk>/evaluation/", reviewer.review, name="review"),
    path("<slug:slug>/projets/<int:pk>/conflit/", reviewer.declare_conflict, name="declare_conflict"),
    path("<slug:slug>/pieces-jointes/<int:att_pk>/", reviewer.attachment, name="attachment"),
]
