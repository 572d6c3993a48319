"""A person's own data, as the RGPD's right of access asks (article 15): everything the portal holds about them.

`personal_data(user)` is pure: it reads and returns a JSON-ready dict, and changes nothing.
"""

from django.utils import timezone

from ami.models import AuditEvent, OutboundEmail
from applications.models import Proposal, Submission
from jury.models import Conflict, JuryInvitation, Review

SCHEMA = 1


def _account(user):
    return {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
        "email_verified_at": user.email_verified_at,
        "is_staff": user.is_staff,
    }


def _memberships(user):
    return [
        {
            "administration": m.administration.name,
            "acronym": m.administration.acronym,
            "status": m.status,
            "created_at": m.created_at,
            "confirmed_at": m.confirmed_at,
        }
        for m in user.memberships.select_related("administration").order_by("created_at", "id")
    ]


def _proposals(user):
    proposals = Proposal.objects.filter(created_by=user).select_related("call", "administration", "requested_track")
    return [
        {
            "call": p.call.slug,
            "reference": p.reference,
            "administration": p.administration.name,
            "title": p.title,
            "status": p.status,
            "summary": p.summary,
            "problem": p.problem,
            "data_description": p.data_description,
            "ai_approach": p.ai_approach,
            "team": p.team,
            "expected_benefits": p.expected_benefits,
            "requested_track": p.requested_track.code if p.requested_track else None,
            "requested_amount_eur": p.requested_amount_eur,
            "eligibility_answers": p.eligibility_answers,
            "created_at": p.created_at,
            "submitted_at": p.submitted_at,
        }
        for p in proposals.order_by("created_at", "id")
    ]


def _submissions(user):
    submissions = Submission.objects.filter(submitted_by=user).select_related("proposal__call")
    return [
        {
            "call": s.proposal.call.slug,
            "reference": s.proposal.reference,
            "number": s.number,
            "submitted_at": s.submitted_at,
            "sha256": s.sha256,
            "snapshot": s.snapshot,
        }
        for s in submissions.order_by("submitted_at", "id")
    ]


def _jury(user):
    seats = user.jury_seats.select_related("call").order_by("call__opens_at", "id")
    reviews = Review.objects.filter(juror__user=user).select_related("proposal__call").prefetch_related(
        "scores__criterion").order_by("proposal__call__opens_at", "proposal__reference", "id")
    conflicts = Conflict.objects.filter(juror__user=user).select_related("proposal__call").order_by("created_at")
    invitations = JuryInvitation.objects.filter(email__iexact=user.email).select_related("call")
    return {
        "seats": [
            {"call": s.call.slug, "role": s.role, "pair": s.pair_label, "expertise": s.expertise,
             "charter_accepted_at": s.charter_accepted_at}
            for s in seats
        ],
        "invitations": [
            {"call": i.call.slug, "role": i.role, "created_at": i.created_at, "accepted_at": i.accepted_at,
             "revoked_at": i.revoked_at}
            for i in invitations.order_by("created_at", "id")
        ],
        # Proposals are named by reference only: the data are the juror's own words and scores.
        "reviews": [
            {
                "call": r.proposal.call.slug,
                "proposal": r.proposal.reference,
                "status": r.status,
                "recommendation": r.recommendation,
                "overall_opinion": r.overall_opinion,
                "submitted_at": r.submitted_at,
                "scores": [
                    {"criterion": s.criterion.title, "value": s.value, "comment": s.comment,
                     "comment_public": s.comment_public}
                    for s in sorted(r.scores.all(), key=lambda score: (score.criterion.position, score.pk))
                ],
            }
            for r in reviews
        ],
        "conflicts": [
            {"call": c.proposal.call.slug, "proposal": c.proposal.reference, "source": c.source,
             "reason": c.reason, "created_at": c.created_at}
            for c in conflicts
        ],
    }


def _audit(user):
    events = AuditEvent.objects.filter(actor=user).select_related("call").order_by("id")
    return [
        {"at": e.at, "action": e.action, "call": e.call.slug if e.call else None, "target_type": e.target_type,
         "target_id": e.target_id, "before": e.before, "after": e.after}
        for e in events
    ]


def _emails(user):
    emails = OutboundEmail.objects.filter(to__iexact=user.email).order_by("created_at", "id")
    return [
        {"subject": e.subject, "kind": e.kind, "status": e.status, "created_at": e.created_at, "sent_at": e.sent_at}
        for e in emails
    ]


def personal_data(user):
    """Everything about `user`: account, memberships, proposals created, submissions made, jury seats,
    invitations, reviews, scores and conflicts, audit entries where they are the actor, emails sent to them."""
    return {
        "schema": SCHEMA,
        "generated_at": timezone.now(),
        "account": _account(user),
        "memberships": _memberships(user),
        "proposals": _proposals(user),
        "submissions": _submissions(user),
        "jury": _jury(user),
        "audit": _audit(user),
        "emails": _emails(user),
    }
