"""The call itself: users, calls, their support tracks and their weighted criteria."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class User(AbstractUser):
    """One person, one email address; staff are the programme's agents (DINUM/DITP)."""

    username = None
    email = models.EmailField(_("adresse électronique"), unique=True)
    email_verified_at = models.DateTimeField(_("adresse vérifiée le"), null=True, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []
    objects = UserManager()

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")

    def __str__(self):
        full = self.get_full_name()
        return f"{full} <{self.email}>" if full else self.email


class CallStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    OPEN = "open", _("Ouvert aux candidatures")
    CLOSED = "closed", _("Candidatures closes")
    ELIGIBILITY = "eligibility", _("Examen de la recevabilité")
    REVIEW = "review", _("Évaluation par le jury")
    DELIBERATION = "deliberation", _("Délibération")
    ANNOUNCED = "announced", _("Résultats annoncés")
    FOLLOW_UP = "follow_up", _("Suivi de l'expérimentation")
    ARCHIVED = "archived", _("Évalué et archivé")


# The phases of DOMAIN.md; a call re-opens only to extend its deadline.
CALL_TRANSITIONS = {
    CallStatus.DRAFT: {CallStatus.OPEN},
    CallStatus.OPEN: {CallStatus.CLOSED},
    CallStatus.CLOSED: {CallStatus.OPEN, CallStatus.ELIGIBILITY},
    CallStatus.ELIGIBILITY: {CallStatus.REVIEW},
    CallStatus.REVIEW: {CallStatus.DELIBERATION},
    CallStatus.DELIBERATION: {CallStatus.ANNOUNCED},
    CallStatus.ANNOUNCED: {CallStatus.FOLLOW_UP},
    CallStatus.FOLLOW_UP: {CallStatus.ARCHIVED},
    CallStatus.ARCHIVED: set(),
}
PUBLIC_RESULTS_STATUSES = {CallStatus.ANNOUNCED, CallStatus.FOLLOW_UP, CallStatus.ARCHIVED}


class CallQuerySet(models.QuerySet):
    def public(self):
        return self.exclude(status=CallStatus.DRAFT)

    def visible_to(self, user):
        if user.is_authenticated and user.is_staff:
            return self.all()
        return self.public()

    def with_results(self):
        return self.filter(status__in=PUBLIC_RESULTS_STATUSES)

    def open_first(self):
        is_open = models.Case(
            models.When(status=CallStatus.OPEN, then=0), default=1, output_field=models.IntegerField()
        )
        return self.annotate(open_rank=is_open).order_by("open_rank", "-opens_at")


class Call(models.Model):
    slug = models.SlugField(_("identifiant"), unique=True, max_length=80)
    title = models.CharField(_("titre"), max_length=200)
    reference_prefix = models.CharField(_("préfixe des références"), max_length=12, help_text=_("Par exemple AMI2019."))
    description = models.TextField(_("description"))
    eligibility_text = models.TextField(_("qui peut candidater"))
    opens_at = models.DateTimeField(_("ouverture des candidatures"))
    closes_at = models.DateTimeField(_("clôture des candidatures"))
    jury_date = models.DateField(_("date du jury"), null=True, blank=True)
    announcement_date = models.DateField(_("date d'annonce des résultats"), null=True, blank=True)
    status = models.CharField(_("phase"), max_length=20, choices=CallStatus.choices, default=CallStatus.DRAFT)
    score_scale_max = models.PositiveSmallIntegerField(
        _("note maximale"), default=5, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    reviews_per_proposal = models.PositiveSmallIntegerField(
        _("évaluations par projet"), default=2, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    uses_pairs = models.BooleanField(_("le jury travaille en binômes"), default=False)
    conflict_same_ministry = models.BooleanField(_("conflit d'intérêts étendu au même ministère"), default=False)
    min_reviews_for_normalisation = models.PositiveSmallIntegerField(
        _("évaluations minimales pour corriger les biais d'un juré"), default=4
    )
    disagreement_threshold = models.DecimalField(
        _("seuil de désaccord (points sur 100)"), max_digits=5, decimal_places=2, default=25
    )
    max_file_mb = models.PositiveSmallIntegerField(_("taille maximale d'un fichier (Mo)"), default=10)
    max_total_mb = models.PositiveSmallIntegerField(_("taille maximale par projet (Mo)"), default=30)
    review_deadline = models.DateTimeField(_("date limite des évaluations du jury"), null=True, blank=True)
    retention_months = models.PositiveSmallIntegerField(
        _("conservation des données personnelles des projets non retenus (mois)"), default=24,
        help_text=_("Après l'annonce, les données personnelles des projets non retenus sont effacées après ce délai."),
    )
    cloned_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("copié de")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CallQuerySet.as_manager()

    class Meta:
        verbose_name = _("appel")
        verbose_name_plural = _("appels")
        ordering = ["-opens_at"]
        constraints = [
            models.CheckConstraint(condition=Q(closes_at__gt=models.F("opens_at")), name="call_closes_after_opening"),
            models.CheckConstraint(condition=Q(status__in=CallStatus.values), name="call_status_known"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("call_detail", args=[self.slug])

    @property
    def results_public(self):
        return self.status in PUBLIC_RESULTS_STATUSES

    @property
    def is_open(self):
        return self.status == CallStatus.OPEN

    def accepts_submissions(self, at=None):
        """Open, and the deadline (an aware instant, compared in UTC whatever the time zone) not passed."""
        at = at or timezone.now()
        return self.status == CallStatus.OPEN and self.opens_at <= at < self.closes_at

    def jury_decisions_exist(self):
        return self.proposals.filter(decision__isnull=False).exists()

    def weights_total(self):
        return self.criteria.aggregate(total=Sum("weight"))["total"] or 0

    def total_budget(self):
        return self.tracks.aggregate(total=Sum("budget_eur"))["total"] or 0


class CallTransition(models.Model):
    """One row per change of phase: who moved the call, from where to where, and when."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=20, choices=CallStatus.choices)
    to_status = models.CharField(max_length=20, choices=CallStatus.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.call.slug}: {self.from_status} → {self.to_status}"


class Track(models.Model):
    """A support track of a call, with its budget envelope and its maximum number of laureates."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="tracks")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("nom"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    budget_eur = models.PositiveIntegerField(_("enveloppe (€)"))
    max_laureates = models.PositiveSmallIntegerField(_("nombre maximal de lauréats"))
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("parcours d'accompagnement")
        verbose_name_plural = _("parcours d'accompagnement")
        ordering = ["call", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["call", "code"], name="track_code_unique_per_call"),
            models.CheckConstraint(condition=Q(max_laureates__gte=1), name="track_at_least_one_laureate"),
        ]

    def __str__(self):
        return self.name


class Criterion(models.Model):
    """A published selection criterion, its weight out of 100 and its rubric per score level."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    title = models.CharField(_("intitulé"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    weight = models.PositiveSmallIntegerField(_("poids"), validators=[MinValueValidator(1), MaxValueValidator(100)])
    rubric = models.JSONField(
        _("grille"), default=list, blank=True, help_text=_("Un texte par niveau de note, de 0 au maximum.")
    )

    class Meta:
        verbose_name = _("critère")
        verbose_name_plural = _("critères")
        ordering = ["call", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(weight__gte=1) & Q(weight__lte=100), name="criterion_weight_1_100"),
            models.UniqueConstraint(fields=["call", "position"], name="criterion_position_unique"),
        ]

    def __str__(self):
        return f"{self.title} ({self.weight})"

    def rubric_levels(self):
        return list(enumerate(self.rubric))


class EligibilityQuestion(models.Model):
    """A yes/no question of the call; one answer makes a proposal ineligible."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="eligibility_questions")
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    text = models.CharField(_("question"), max_length=300)
    help_text = models.CharField(_("aide"), max_length=500, blank=True)
    ineligible_answer = models.BooleanField(
        _("réponse qui rend le projet irrecevable"),
        help_text=_("Coché : répondre « oui » rend le projet irrecevable ; décoché : répondre « non »."),
    )

    class Meta:
        verbose_name = _("question de recevabilité")
        verbose_name_plural = _("questions de recevabilité")
        ordering = ["call", "position", "id"]

    def __str__(self):
        return self.text

    def makes_ineligible(self, answer):
        return answer is not None and bool(answer) == self.ineligible_answer


class AuditEvent(models.Model):
    """One entry of the tamper-evident audit trail: each row hashes its content and the previous hash.

    Written only through ami.audit.record(); ami.audit.verify() recomputes the chain.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=60, db_index=True)
    call = models.ForeignKey(Call, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events")
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=40, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("entrée du journal d'audit")
        verbose_name_plural = _("journal d'audit")
        ordering = ["id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target_type}:{self.target_id}"


class EmailStatus(models.TextChoices):
    QUEUED = "queued", _("En attente d'envoi")
    SENDING = "sending", _("En cours d'envoi")
    SENT = "sent", _("Envoyé")
    FAILED = "failed", _("Échec")


class OutboundEmail(models.Model):
    """Mail is a row before it is a message: `key` makes each message exist once, the row lock sends it once."""

    key = models.CharField(max_length=200, unique=True)
    to = models.EmailField()
    subject = models.CharField(max_length=250)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    attachment_path = models.CharField(max_length=300, blank=True, help_text="Path inside MEDIA_ROOT.")
    attachment_name = models.CharField(max_length=150, blank=True)
    call = models.ForeignKey(Call, null=True, blank=True, on_delete=models.SET_NULL, related_name="emails")
    proposal = models.ForeignKey(
        "applications.Proposal", null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )
    kind = models.CharField(_("nature"), max_length=40, blank=True)
    status = models.CharField(max_length=10, choices=EmailStatus.choices, default=EmailStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    sending_since = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("courriel")
        verbose_name_plural = _("courriels")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "created_at"], name="outbox_status")]

    def __str__(self):
        return f"{self.key} → {self.to} ({self.status})"
