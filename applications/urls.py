from django.urls import path

from applications import views
from applications.views import attachments as attachment_views
from applications.views import intake as intake_views
from applications.views import submission as submission_views

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
    path("mes-projets/<int:pk>/modifier/<int:step>/", views.edit_draft, name="edit_draft_step"),
    path("mes-projets/<int:pk>/autosave/", views.autosave_draft, name="autosave_draft"),
    path("mes-projets/<int:pk>/pieces/", attachment_views.attachments, name="attachments"),
    path("mes-projets/<int:pk>/pieces/<int:att_pk>/remplacer/", attachment_views.replace_attachment,
         name="replace_attachment"),
    path("mes-projets/<int:pk>/pieces/<int:att_pk>/retirer/", attachment_views.remove_attachment,
         name="remove_attachment"),
    path("pieces-jointes/<int:att_pk>/", attachment_views.download_attachment, name="download_attachment"),
    path("mes-projets/<int:pk>/relire/", submission_views.review_proposal, name="review_proposal"),
    path("mes-projets/<int:pk>/deposer/", submission_views.submit_proposal, name="submit_proposal"),
    path("mes-projets/<int:pk>/rouvrir/", submission_views.reopen_proposal, name="reopen_proposal"),
    path("mes-projets/<int:pk>/retirer/", submission_views.withdraw_proposal, name="withdraw_proposal"),
    path("mes-projets/<int:pk>/recepisse/<int:number>/", submission_views.receipt, name="receipt"),
    path("equipe/depots/", intake_views.intake, name="intake"),
    path("equipe/depots/<int:pk>/", intake_views.intake_detail, name="intake_detail"),
    path("equipe/administrations/", intake_views.pending_administrations, name="pending_administrations"),
    path("equipe/administrations/<int:pk>/valider/", intake_views.approve_administration,
         name="approve_administration"),
    path("equipe/administrations/<int:pk>/refuser/", intake_views.reject_administration,
         name="reject_administration"),
    path("equipe/administrations/<int:pk>/fusionner/", intake_views.merge_administration,
         name="merge_administration"),
]
