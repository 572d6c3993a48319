"""What administrations bring: the registry of administrations, their members, their proposals."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ami.models import Call, Track


class AdministrationQuerySet(models.QuerySet):
    def search(self, query):
        """Approved administrations whose name, acronym or ministry contains `query`."""
        query = query.strip()
        approved = self.filter(approved=True)
        if not query:
            return approved.none()
        return approved.filter(Q(name__icontains=query) | Q(acronym__icontains=query) | Q(ministry__icontains=query))

    def of_active_member(self, user):
        return self.filter(memberships__user=user, memberships__status=MembershipStatus.ACTIVE)


class AdministrationKind(models.TextChoices):
    CENTRAL = "central", _("Direction d'administration centrale")
    DECONCENTRATED = "deconcentrated", _("Service déconcentré")
    ESTABLISHMENT = "establishment", _("Établissement public ou opérateur national")
    COURT = "court", _("Juridiction")
    UNIVERSITY = "university", _("Université ou organisme de recherche")
    HOSPITAL = "hospital", _("Établissement hospitalier")


class Administration(models.Model):
    name = models.CharField(_("nom"), max_length=200, unique=True)
    acronym = models.CharField(_("sigle"), max_length=40, blank=True)
    kind = models.CharField(_("type"), max_length=20, choices=AdministrationKind.choices)
    ministry = models.CharField(_("ministère de tutelle"), max_length=200)
    approved = models.BooleanField(
        _("validée"),
        default=True,
        help_text=_("Une administration proposée par un agent attend la validation des équipes du programme."),
    )

    objects = AdministrationQuerySet.as_manager()

    class Meta:
        verbose_name = _("administration")
        verbose_name_plural = _("administrations")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=AdministrationKind.values), name="administration_kind_known")
        ]

    def __str__(self):
        return f"{self.name} ({self.acronym})" if self.acronym else self.name


class MembershipStatus(models.TextChoices):
    PENDING = "pending", _("En attente de confirmation")
    ACTIVE = "active", _("Confirmé")
    REVOKED = "revoked", _("Retiré")


class AdministrationScopedQuerySet(models.QuerySet):
    """Rows that belong to an administration: staff see all, its active members theirs, others none.

    `administration_path` is the lookup from the row to its administration.
    """

    administration_path = "administration"

    def of_administrations_of(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.is_staff:
            return self.all()
        return self.filter(**{
            f"{self.administration_path}__memberships__user": user,
            f"{self.administration_path}__memberships__status": MembershipStatus.ACTIVE,
        })


class MembershipQuerySet(AdministrationScopedQuerySet):
    def active(self):
        return self.filter(status=MembershipStatus.ACTIVE)

    def pending(self):
        return self.filter(status=MembershipStatus.PENDING)

    def confirmable_by(self, user):
        """Memberships `user` may confirm: staff any; active members those of their own administrations."""
        return self.of_administrations_of(user)


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    administration = models.ForeignKey(Administration, on_delete=models.CASCADE, related_name="memberships")
    status = models.CharField(max_length=10, choices=MembershipStatus.choices, default=MembershipStatus.PENDING)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("appartenance")
        constraints = [
            models.UniqueConstraint(fields=["user", "administration"], name="membership_unique"),
        ]

    def __str__(self):
        return f"{self.user} — {self.administration}"


class ProposalStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SUBMITTED = "submitted", _("Déposé")
    WITHDRAWN = "withdrawn", _("Retiré")
    ELIGIBLE = "eligible", _("Recevable")
    INELIGIBLE = "ineligible", _("Irrecevable")
    LAUREATE = "laureate", _("Lauréat")
    WAITING_LIST = "waiting_list", _("Liste d'attente")
    NOT_SELECTED = "not_selected", _("Non retenu")


PROPOSAL_TRANSITIONS = {
    ProposalStatus.DRAFT: {ProposalStatus.SUBMITTED, ProposalStatus.WITHDRAWN},
    ProposalStatus.SUBMITTED: {
        ProposalStatus.DRAFT,
        ProposalStatus.WITHDRAWN,
        ProposalStatus.ELIGIBLE,
        ProposalStatus.INELIGIBLE,
    },
    ProposalStatus.WITHDRAWN: {ProposalStatus.DRAFT},
    ProposalStatus.ELIGIBLE: {
        ProposalStatus.INELIGIBLE,
        ProposalStatus.LAUREATE,
        ProposalStatus.WAITING_LIST,
        ProposalStatus.NOT_SELECTED,
    },
    ProposalStatus.INELIGIBLE: {ProposalStatus.ELIGIBLE},
    ProposalStatus.LAUREATE: {ProposalStatus.WAITING_LIST, ProposalStatus.NOT_SELECTED},
    ProposalStatus.WAITING_LIST: {ProposalStatus.LAUREATE, ProposalStatus.NOT_SELECTED},
    ProposalStatus.NOT_SELECTED: {ProposalStatus.LAUREATE, ProposalStatus.WAITING_LIST},
}


class ProposalQuerySet(AdministrationScopedQuerySet):
    def visible_to(self, user):
        """Staff see all; members see their administrations' proposals; nobody else sees any."""
        return self.of_administrations_of(user)

    def submitted(self):
        return self.exclude(status__in=[ProposalStatus.DRAFT, ProposalStatus.WITHDRAWN])


class Proposal(models.Model):
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="proposals")
    administration = models.ForeignKey(Administration, on_delete=models.PROTECT, related_name="proposals")
    reference = models.CharField(_("référence"), max_length=30, blank=True)
    title = models.CharField(_("titre du projet"), max_length=200)
    summary = models.TextField(_("résumé"), max_length=2000, blank=True)
    problem = models.TextField(_("problème à résoudre et personnes concernées"), max_length=6000, blank=True)
    data_description = models.TextField(_("données disponibles"), max_length=6000, blank=True)
    ai_approach = models.TextField(_("approche par l'intelligence artificielle"), max_length=6000, blank=True)
    expected_benefits = models.TextField(
        _("bénéfices attendus pour les agents et les usagers"), max_length=6000, blank=True
    )
    team = models.TextField(_("équipe et gouvernance"), max_length=6000, blank=True)
    requested_amount_eur = models.PositiveIntegerField(_("accompagnement demandé (€)"), null=True, blank=True)
    requested_track = models.ForeignKey(
        Track,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requested_by",
        verbose_name=_("parcours demandé"),
    )
    eligibility_answers = models.JSONField(
        _("réponses aux questions de recevabilité"), default=dict, blank=True,
        help_text="{question id (str): true/false}",
    )
    expertise_tags = models.JSONField(_("thèmes d'expertise"), default=list, blank=True)
    status = models.CharField(_("statut"), max_length=20, choices=ProposalStatus.choices, default=ProposalStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(_("déposé le"), null=True, blank=True)

    objects = ProposalQuerySet.as_manager()

    class Meta:
        verbose_name = _("projet")
        verbose_name_plural = _("projets")
        ordering = ["call", "reference", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["call", "reference"], condition=~Q(reference=""), name="proposal_reference_unique_per_call"
            ),
            models.CheckConstraint(condition=Q(status__in=ProposalStatus.values), name="proposal_status_known"),
        ]

    def __str__(self):
        return f"{self.reference} — {self.title}" if self.reference else self.title


class ProposalTransition(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=20, choices=ProposalStatus.choices)
    to_status = models.CharField(max_length=20, choices=ProposalStatus.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.proposal_id}: {self.from_status} → {self.to_status}"


def attachment_path(instance, filename):
    """Random names under MEDIA_ROOT (never served statically): the original name is kept in the row only."""
    return f"attachments/{instance.proposal.call_id}/{instance.proposal_id}/{uuid.uuid4().hex}.pdf"


class ScanStatus(models.TextChoices):
    NOT_SCANNED = "not_scanned", _("Non analysé (antivirus désactivé)")
    PENDING = "pending", _("Analyse en cours")
    CLEAN = "clean", _("Sain")
    INFECTED = "infected", _("Infecté")


class AttachmentQuerySet(AdministrationScopedQuerySet):
    administration_path = "proposal__administration"

    def current(self):
        return self.filter(replaced_at__isnull=True)

    def readable_by_jury(self):
        """What the jury may open: never a file still being scanned or found infected."""
        return self.filter(scan_status__in=[ScanStatus.NOT_SCANNED, ScanStatus.CLEAN])


class Attachment(models.Model):
    """A PDF of a proposal. Replacing one keeps the old row (replaced_at set) in the history."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="attachments")
    label = models.CharField(_("description de la pièce"), max_length=150, blank=True)
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("nom du fichier"), max_length=150)
    size = models.PositiveIntegerField(_("taille (octets)"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaced_by"
    )
    replaced_at = models.DateTimeField(null=True, blank=True)
    scan_status = models.CharField(
        _("analyse antivirus"), max_length=12, choices=ScanStatus.choices, default=ScanStatus.NOT_SCANNED
    )
    scanned_at = models.DateTimeField(null=True, blank=True)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("pièce jointe")
        verbose_name_plural = _("pièces jointes")
        ordering = ["proposal", "uploaded_at", "id"]

    def __str__(self):
        return self.original_name


class SubmissionQuerySet(AdministrationScopedQuerySet):
    administration_path = "proposal__administration"


def receipt_path(instance, filename):
    return f"receipts/{instance.proposal.call_id}/{instance.proposal_id}/{uuid.uuid4().hex}.pdf"


class Submission(models.Model):
    """An immutable snapshot of a proposal as submitted: what the jury reads. Resubmitting adds one."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="submissions")
    number = models.PositiveSmallIntegerField(_("dépôt n°"))
    proposal_version = models.PositiveIntegerField(
        help_text="The draft version that was submitted: the same version submits once (double click, replay)."
    )
    snapshot = models.JSONField()
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(_("déposé le"))
    receipt_pdf = models.FileField(upload_to=receipt_path, max_length=200, blank=True)

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        verbose_name = _("dépôt")
        verbose_name_plural = _("dépôts")
        ordering = ["proposal", "number"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "proposal_version"], name="submission_once_per_version"),
            models.UniqueConstraint(fields=["proposal", "number"], name="submission_number_unique"),
        ]

    def __str__(self):
        return f"{self.proposal} — {self.number}"
