from django.urls import path

from jury.views import announce

app_name = "announce"
urlpatterns = [
    path("appels/<slug:slug>/annonce/", announce.announce_page, name="page"),
    path("appels/<slug:slug>/annonce/modele/<str:outcome>/", announce.save_template, name="save_template"),
    path("appels/<slug:slug>/annonce/confirmer/", announce.do_announce, name="announce"),
    path("appels/<slug:slug>/courriels/", announce.outbox, name="outbox"),
    path("appels/<slug:slug>/courriels/etat/", announce.outbox_status, name="outbox_status"),
    path("appels/<slug:slug>/courriels/relancer/", announce.retry, name="retry"),
]
