"""Who may do what on the jury side: small named predicates (the views fetch through per-user querysets first)."""

from ami.models import CallStatus
from jury.models import ReviewStatus


def has_accepted_charter(member):
    return member.charter_accepted_at is not None


def is_review_phase(call):
    """Scores are written only while the call is in its jury review phase."""
    return call.status == CallStatus.REVIEW


def is_submitted(review):
    return review.status == ReviewStatus.SUBMITTED


def can_edit_review(review, call):
    """A review is edited until it is submitted (then it is final unless staff reopen it), during the review phase."""
    return is_review_phase(call) and not is_submitted(review)


def can_see_other_reviews(review):
    """A juror sees the other reviews of a proposal only once their own is submitted."""
    return is_submitted(review)
