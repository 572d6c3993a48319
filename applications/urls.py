from django.urls import path

from applications import views

app_name = "applications"
urlpatterns = [
    path("mon-administration/", views.my_administration, name="my_administration"),
    path("mon-administration/rejoindre/", views.join_administration, name="join_administration"),
    path("mon-administration/nouvelle/", views.propose_administration, name="propose_administration"),
    path("mon-administration/membres/", views.members, name="members"),
    path("mon-administration/membres/<int:pk>/confirmer/", views.confirm_member, name="confirm_member"),
    path("mes-projets/", views.my_proposals, name="my_proposals"),
    path("mes-projets/nouveau/<slug:call_slug>/", views.new_draft, name="new_draft"),
    path("mes-projets/<int:pk>/modifier/", views.edit_draft, name="edit_draft"),
    path("mes-projets/<int:pk>/autosave/", views.autosave_draft, name="autosave_draft"),
]
