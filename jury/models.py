"""What the jury and staff do: jury membership, reviews and scores, decisions."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from ami.models import Call, Criterion, Track
from applications.models import Membership, MembershipStatus, Proposal


class JuryRole(models.TextChoices):
    CHAIR = "chair", _("Président du jury")
    MEMBER = "member", _("Membre du jury")


class JuryMember(models.Model):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="jury_members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jury_seats")
    role = models.CharField(_("rôle"), max_length=10, choices=JuryRole.choices, default=JuryRole.MEMBER)
    pair_label = models.CharField(_("binôme"), max_length=20, blank=True)
    expertise = models.JSONField(_("expertises"), default=list, blank=True)
    charter_accepted_at = models.DateTimeField(_("charte acceptée le"), null=True, blank=True)
    max_load = models.PositiveSmallIntegerField(_("nombre maximal de projets à évaluer"), null=True, blank=True)

    class Meta:
        verbose_name = _("membre du jury")
        verbose_name_plural = _("membres du jury")
        ordering = ["call", "pair_label", "id"]
        constraints = [
            models.UniqueConstraint(fields=["call", "user"], name="jury_member_unique"),
            models.UniqueConstraint(fields=["call"], condition=Q(role="chair"), name="one_chair_per_call"),
        ]

    def __str__(self):
        return f"{self.user} ({self.get_role_display()}, {self.call.slug})"


class ReviewStatus(models.TextChoices):
    ASSIGNED = "assigned", _("Non commencée")
    DRAFT = "draft", _("Brouillon")
    SUBMITTED = "submitted", _("Soumise")


class Recommendation(models.TextChoices):
    STRONG_YES = "strong_yes", _("À retenir en priorité")
    YES = "yes", _("À retenir")
    NO = "no", _("À ne pas retenir")


class ReviewQuerySet(models.QuerySet):
    def without_conflicts(self):
        """Drops the reviews whose juror has a conflict of interest with the proposal.

        Declared or staff conflicts are rows; automatic ones are computed here, every time, from the
        juror's active memberships (their administration, or its ministry when the call says so),
        so that a membership confirmed after the assignment still hides the proposal.
        """
        declared = Conflict.objects.filter(juror=OuterRef("juror"), proposal=OuterRef("proposal"))
        active = Membership.objects.filter(user=OuterRef("juror__user"), status=MembershipStatus.ACTIVE)
        same_administration = active.filter(administration=OuterRef("proposal__administration"))
        same_ministry = active.filter(administration__ministry=OuterRef("proposal__administration__ministry"))
        return self.exclude(Exists(declared)).exclude(Exists(same_administration)).exclude(
            Q(proposal__call__conflict_same_ministry=True) & Exists(same_ministry)
        )

    def of_user(self, user):
        """The reviews a juror may open: their own seats, never a conflicted proposal."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(juror__user=user).without_conflicts()


class Review(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="reviews")
    juror = models.ForeignKey(JuryMember, on_delete=models.CASCADE, related_name="reviews")
    status = models.CharField(max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.ASSIGNED)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    assigned_manually = models.BooleanField(default=False)
    overall_opinion = models.TextField(_("avis général"), blank=True)
    recommendation = models.CharField(_("recommandation"), max_length=12, choices=Recommendation.choices, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        verbose_name = _("évaluation")
        constraints = [
            models.UniqueConstraint(fields=["proposal", "juror"], name="one_review_per_juror_and_proposal"),
        ]

    def __str__(self):
        return f"{self.proposal} / {self.juror.user}"


class JuryInvitation(models.Model):
    """An invitation by email; the link carries a signed, expiring token of this row, usable once."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="jury_invitations")
    email = models.EmailField(_("adresse électronique"))
    role = models.CharField(_("rôle"), max_length=10, choices=JuryRole.choices, default=JuryRole.MEMBER)
    pair_label = models.CharField(_("binôme"), max_length=20, blank=True)
    expertise = models.JSONField(_("expertises"), default=list, blank=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    member = models.OneToOneField(
        JuryMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitation"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invitation au jury")
        verbose_name_plural = _("invitations au jury")
        ordering = ["call", "created_at", "id"]

    def __str__(self):
        return f"{self.email} ({self.call.slug})"


class ConflictSource(models.TextChoices):
    AUTOMATIC = "automatic", _("Automatique (même administration ou ministère)")
    DECLARED = "declared", _("Déclaré par le juré")
    STAFF = "staff", _("Signalé par l'équipe du programme")


class Conflict(models.Model):
    """A conflict of interest between a juror and a proposal: the juror never sees the proposal."""

    juror = models.ForeignKey(JuryMember, on_delete=models.CASCADE, related_name="conflicts")
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="conflicts")
    source = models.CharField(_("origine"), max_length=10, choices=ConflictSource.choices)
    reason = models.TextField(_("motif"), blank=True)
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("conflit d'intérêts")
        verbose_name_plural = _("conflits d'intérêts")
        constraints = [models.UniqueConstraint(fields=["juror", "proposal"], name="conflict_unique")]

    def __str__(self):
        return f"{self.juror.user} ✕ {self.proposal}"


class Score(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="scores")
    value = models.PositiveSmallIntegerField(_("note"))
    comment = models.TextField(_("commentaire"), blank=True)
    comment_public = models.BooleanField(_("commentaire publiable"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "criterion"], name="one_score_per_criterion"),
        ]

    def __str__(self):
        return f"{self.criterion.title}: {self.value}"


class Outcome(models.TextChoices):
    LAUREATE = "laureate", _("Lauréat")
    WAITING_LIST = "waiting_list", _("Liste d'attente")
    NOT_SELECTED = "not_selected", _("Non retenu")


class Decision(models.Model):
    """The jury's decision on one proposal, with the score and rank it was taken at."""

    proposal = models.OneToOneField(Proposal, on_delete=models.CASCADE, related_name="decision")
    outcome = models.CharField(_("décision"), max_length=15, choices=Outcome.choices)
    track = models.ForeignKey(Track, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("parcours"))
    granted_amount_eur = models.PositiveIntegerField(_("accompagnement accordé (€)"), null=True, blank=True)
    score = models.DecimalField(_("score pondéré"), max_digits=5, decimal_places=2)
    rank = models.PositiveIntegerField(_("rang"))
    reason = models.TextField(_("motif"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(auto_now=True)
    override_reason = models.TextField(
        _("motif de la dérogation"), blank=True,
        help_text=_("Obligatoire quand le président retient un projet au-delà de l'enveloppe ou du nombre maximal."),
    )

    class Meta:
        verbose_name = _("décision")
        constraints = [
            models.CheckConstraint(
                condition=~Q(outcome="laureate") | (Q(track__isnull=False) & Q(granted_amount_eur__isnull=False)),
                name="laureate_has_track_and_amount",
            ),
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=100), name="decision_score_0_100"),
        ]

    def __str__(self):
        return f"{self.proposal}: {self.get_outcome_display()}"


class RankBy(models.TextChoices):
    ADJUSTED = "adjusted", _("Score corrigé des biais des jurés")
    RAW = "raw", _("Moyenne brute des évaluations")


class Deliberation(models.Model):
    """The jury's meeting on one call: who was there, what ranks, the minutes, and the lock."""

    call = models.OneToOneField(Call, on_delete=models.CASCADE, related_name="deliberation")
    rank_by = models.CharField(_("classement selon"), max_length=10, choices=RankBy.choices, default=RankBy.ADJUSTED)
    administration_cap = models.PositiveSmallIntegerField(
        _("lauréats au plus par administration"), null=True, blank=True
    )
    ministry_cap = models.PositiveSmallIntegerField(_("lauréats au plus par ministère"), null=True, blank=True)
    present_members = models.ManyToManyField(JuryMember, blank=True, related_name="+", verbose_name=_("présents"))
    held_on = models.DateField(_("date de la délibération"), null=True, blank=True)
    minutes = models.TextField(_("procès-verbal"), blank=True)
    locked_at = models.DateTimeField(_("décisions arrêtées le"), null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("délibération")
        verbose_name_plural = _("délibérations")

    def __str__(self):
        return f"{self.call.slug}"

    @property
    def is_locked(self):
        return self.locked_at is not None


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"
    ODS = "ods", "OpenDocument (ODS)"
    JSON = "json", "JSON"


class ExportDataset(models.TextChoices):
    LAUREATES = "laureates", _("Lauréats")
    PROPOSALS = "proposals", _("Tous les projets déposés, avec scores et décisions")


class JobStatus(models.TextChoices):
    """The states of work done by a worker for staff: an export, a selection report."""

    PENDING = "pending", _("En attente")
    RUNNING = "running", _("En cours")
    DONE = "done", _("Prêt")
    FAILED = "failed", _("Échec")


ExportStatus = JobStatus


def export_path(instance, filename):
    return f"exports/{instance.call_id}/{uuid.uuid4().hex}/{filename}"


class ExportJob(models.Model):
    """One export asked by a staff member, built by a Celery task into a file kept for download."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="exports")
    dataset = models.CharField(_("contenu"), max_length=12, choices=ExportDataset.choices)
    format = models.CharField(_("format"), max_length=5, choices=ExportFormat.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to=export_path, max_length=250, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.call.slug} {self.dataset}.{self.format} ({self.status})"

    @property
    def percent(self):
        if self.status == ExportStatus.DONE:
            return 100
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0


class AnnouncementTemplate(models.Model):
    """The message sent to the applicants of one outcome, written by staff for one call.

    Subject, text and HTML are Django templates rendered with plain strings only (see
    jury.services.announce.PLACEHOLDERS), so a template can show data but never reach an object.
    """

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="announcement_templates")
    outcome = models.CharField(_("décision"), max_length=15, choices=Outcome.choices)
    subject = models.CharField(_("objet"), max_length=200)
    body_text = models.TextField(_("texte"))
    body_html = models.TextField(_("version HTML"), blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("modèle de message d'annonce")
        verbose_name_plural = _("modèles de messages d'annonce")
        constraints = [models.UniqueConstraint(fields=["call", "outcome"], name="announcement_template_unique")]

    def __str__(self):
        return f"{self.call.slug} — {self.get_outcome_display()}"


ReportStatus = JobStatus


def report_path(instance, filename):
    return f"reports/{instance.call_id}/{uuid.uuid4().hex}/{filename}"


class SelectionReport(models.Model):
    """One version of a call's selection report: the frozen snapshot, its hash, and the PDF made from it."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="reports")
    version = models.PositiveIntegerField(_("version"))
    is_draft = models.BooleanField(_("version de travail (filigrane)"), default=False)
    snapshot = models.JSONField(default=dict)
    sha256 = models.CharField(_("empreinte SHA-256 de l'instantané"), max_length=64, blank=True)
    audit_head = models.CharField(_("dernière entrée du journal d'audit"), max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=ReportStatus.choices, default=ReportStatus.PENDING)
    stage = models.CharField(_("étape"), max_length=20, blank=True)
    file = models.FileField(upload_to=report_path, max_length=250, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("rapport de sélection")
        verbose_name_plural = _("rapports de sélection")
        ordering = ["call", "-version"]
        constraints = [models.UniqueConstraint(fields=["call", "version"], name="report_version_unique")]

    def __str__(self):
        return f"{self.call.slug} v{self.version}"
