"""Announcing the laureates: one message per proposal contact and outcome, through the outbox, once."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.template import Context, Engine, TemplateSyntaxError
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ami import audit
from ami.mail import enqueue_batches, queue_rendered
from ami.models import Call, CallStatus, EmailStatus, OutboundEmail
from ami.services import transition_call
from ami.templatetags.ami_tags import euros
from applications.models import Membership, MembershipStatus
from jury.models import AnnouncementTemplate, Decision, Deliberation, Outcome

# What a template may show: plain strings only, never an object.
PLACEHOLDERS = {  # labels shown to staff beside the template editor
    "appel": gettext_lazy("titre de l'appel"),
    "reference": gettext_lazy("référence du projet"),
    "titre": gettext_lazy("titre du projet"),
    "administration": gettext_lazy("administration porteuse"),
    "decision": gettext_lazy("décision (lauréat, liste d'attente, non retenu)"),
    "parcours": gettext_lazy("parcours d'accompagnement attribué"),
    "montant": gettext_lazy("montant de l'accompagnement, par exemple 120 000 €"),
    "motif": gettext_lazy("motif de la décision"),
    "lien": gettext_lazy("adresse de la page « Mes projets »"),
}


def default_template(outcome):
    """(subject, text, html) written in templates/jury/announce/default_<outcome>*."""
    prefix = f"jury/announce/default_{outcome}"
    return tuple(
        get_template(f"{prefix}{suffix}").template.source.strip() + ("\n" if suffix != "_subject.txt" else "")
        for suffix in ("_subject.txt", ".txt", ".html")
    )


def templates_of(call):
    """{outcome: AnnouncementTemplate (unsaved defaults where staff wrote none)}."""
    saved = {t.outcome: t for t in AnnouncementTemplate.objects.filter(call=call)}
    result = {}
    for outcome in Outcome.values:
        if outcome in saved:
            result[outcome] = saved[outcome]
        else:
            subject, text, html = default_template(outcome)
            result[outcome] = AnnouncementTemplate(call=call, outcome=outcome, subject=subject, body_text=text,
                                                   body_html=html)
    return result


# A bare engine: default tags and filters, no context processors, unknown names render as "".
ENGINE = Engine()


def check_template(source):
    """Raises ValidationError when `source` is not a valid template of placeholders."""
    try:
        ENGINE.from_string(source)
    except TemplateSyntaxError as error:
        raise ValidationError(_("Modèle invalide : %(error)s") % {"error": error}, code="template") from error


def placeholders_for(decision):
    proposal = decision.proposal
    with translation.override("fr"):
        amount = euros(decision.granted_amount_eur) if decision.granted_amount_eur else ""
        return {
            "appel": proposal.call.title,
            "reference": proposal.reference,
            "titre": proposal.title,
            "administration": proposal.administration.name,
            "decision": str(Outcome(decision.outcome).label),
            "parcours": decision.track.name if decision.track else "",
            "montant": amount,
            "motif": decision.reason,
            "lien": settings.SITE_URL + reverse("applications:my_proposals"),
        }


def compile_template(template):
    """The three parts of an AnnouncementTemplate, compiled once for a whole announcement."""
    return (
        ENGINE.from_string(template.subject),
        ENGINE.from_string(template.body_text),
        ENGINE.from_string(template.body_html) if template.body_html else None,
    )


def render_compiled(compiled, values):
    """(subject, text, html) of one message; text parts are not HTML-escaped, the HTML part is."""
    subject, body_text, body_html = compiled
    subject = " ".join(subject.render(Context(values, autoescape=False)).split())
    # render() marks its output safe; the text part is plain text, to be escaped wherever it is shown.
    text = "".join([body_text.render(Context(values, autoescape=False))])
    html = body_html.render(Context(values)) if body_html is not None else ""
    return subject, text, html


def render(template, values):
    return render_compiled(compile_template(template), values)


def recipients(proposal):
    """The proposal's contacts: who created and who submitted it, while still active members of its
    administration; every active member when none of them is."""
    prefetched = getattr(proposal.administration, "active_memberships", None)
    memberships = prefetched if prefetched is not None else proposal.administration.memberships.filter(
        status=MembershipStatus.ACTIVE).select_related("user")
    active = {m.user_id: m.user.email for m in memberships}
    contacts = {proposal.created_by_id, *(s.submitted_by_id for s in proposal.submissions.all())}
    chosen = sorted(email for user_id, email in active.items() if user_id in contacts)
    return chosen or sorted(active.values())


def decisions_to_announce(call, with_contacts=False):
    decisions = (
        Decision.objects.filter(proposal__call=call)
        .select_related("proposal__administration", "proposal__call", "track")
        .prefetch_related("proposal__submissions")
        .order_by("outcome", "track__position", "rank")
    )
    if with_contacts:
        active = Membership.objects.filter(status=MembershipStatus.ACTIVE).select_related("user")
        decisions = decisions.prefetch_related(
            Prefetch("proposal__administration__memberships", queryset=active, to_attr="active_memberships")
        )
    return decisions


def preview_counts(call):
    """{outcome: (proposals, messages)} that announcing would produce, for the confirmation page."""
    counts = {outcome: [0, 0] for outcome in Outcome.values}
    for decision in decisions_to_announce(call, with_contacts=True):
        counts[decision.outcome][0] += 1
        counts[decision.outcome][1] += len(recipients(decision.proposal))
    return {outcome: tuple(value) for outcome, value in counts.items()}


def announce_errors(call):
    deliberation = Deliberation.objects.filter(call=call).first()
    errors = []
    if call.status != CallStatus.DELIBERATION:
        errors.append(_("Seul un appel en phase de délibération peut être annoncé (phase actuelle : %(phase)s).")
                      % {"phase": CallStatus(call.status).label})
    if deliberation is None or not deliberation.is_locked:
        errors.append(_("Les décisions du jury ne sont pas encore arrêtées : le président doit d'abord les "
                        "verrouiller."))
    if not Decision.objects.filter(proposal__call=call).exists():
        errors.append(_("Aucune décision n'est enregistrée pour cet appel."))
    return errors


@transaction.atomic
def announce_call(*, call, by):
    """Publishes the results of `call` and queues every applicant's message.

    Side effects: the call moves DELIBERATION → ANNOUNCED (`transition_call`, which locks the call row
    so two clicks announce once); one OutboundEmail per (call, proposal, recipient, outcome) — the
    key makes a second announcement queue nothing —, each sent by a Celery task after commit; one
    audit entry with the counts. Raises ValidationError (nothing changed) when the call is not ready.
    Returns the number of messages queued.
    """
    # Two clicks: the second waits here, then sees ANNOUNCED and is refused.
    call = Call.objects.select_for_update(no_key=True).get(pk=call.pk)
    errors = announce_errors(call)
    if errors:
        raise ValidationError(errors, code="not_ready")
    transition_call(call=call, to_status=CallStatus.ANNOUNCED, by=by, note=_("Annonce des résultats"))
    compiled = {outcome: compile_template(template) for outcome, template in templates_of(call).items()}
    created_ids = []
    for decision in decisions_to_announce(call, with_contacts=True):
        subject, text, html = render_compiled(compiled[decision.outcome], placeholders_for(decision))
        for email in recipients(decision.proposal):
            row, created = queue_rendered(
                key=f"announce:{call.pk}:{decision.proposal_id}:{email}:{decision.outcome}",
                to=email, subject=subject, text=text, html=html, call=call, proposal=decision.proposal,
                kind=f"announce:{decision.outcome}", enqueue=False,
            )
            if created:
                created_ids.append(row.pk)
    enqueue_batches(created_ids)
    queued = len(created_ids)
    audit.record(action="call.announced", actor=by, call=call, target=call,
                 after={"messages": queued, "at": timezone.now().isoformat()})
    return queued


def outbox_progress(call):
    """Counts of the call's announcement messages by status, and the share already settled (sent or failed)."""
    rows = OutboundEmail.objects.filter(call=call, kind__startswith="announce:").aggregate(
        total=Count("pk"),
        sent=Count("pk", filter=Q(status=EmailStatus.SENT)),
        failed=Count("pk", filter=Q(status=EmailStatus.FAILED)),
        queued=Count("pk", filter=Q(status__in=[EmailStatus.QUEUED, EmailStatus.SENDING])),
    )
    rows["percent"] = int(100 * (rows["sent"] + rows["failed"]) / rows["total"]) if rows["total"] else 0
    return rows
