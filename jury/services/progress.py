"""The staff progress board: reviews done and expected, per juror and per proposal."""

from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from applications.models import Proposal, ProposalStatus
from jury.models import Review, ReviewStatus


@dataclass
class Progress:
    done: int = 0
    drafts: int = 0
    expected: int = 0

    @property
    def missing(self):
        return self.expected - self.done

    @property
    def percent(self):
        return round(100 * self.done / self.expected) if self.expected else 100


@dataclass
class JurorProgress(Progress):
    juror: object = None
    late: bool = False


@dataclass
class ProposalProgress(Progress):
    proposal: object = None


@dataclass
class Board:
    jurors: list
    proposals: list
    total: Progress
    deadline_passed: bool


def _counts(reviews, key):
    rows = reviews.values(key).annotate(
        expected=Count("id"),
        done=Count("id", filter=Q(status=ReviewStatus.SUBMITTED)),
        drafts=Count("id", filter=Q(status=ReviewStatus.DRAFT)),
    ).order_by()
    return {row[key]: row for row in rows}


def deadline_passed(call, now=None):
    return bool(call.review_deadline and (now or timezone.now()) >= call.review_deadline)


def progress_board(*, call, now=None):
    """The board of `call` in four queries, whatever the size of the jury. No side effect.

    Reviews hidden by a conflict of interest count neither as done nor as expected. A juror is late
    when the review deadline has passed and some of their reviews are not submitted.
    """
    passed = deadline_passed(call, now)
    visible = Review.objects.filter(proposal__call=call).without_conflicts()
    per_juror, per_proposal = _counts(visible, "juror"), _counts(visible, "proposal")
    jurors = []
    for juror in call.jury_members.select_related("user").order_by("pair_label", "user__last_name", "id"):
        row = per_juror.get(juror.pk, {})
        line = JurorProgress(juror=juror, done=row.get("done", 0), drafts=row.get("drafts", 0),
                             expected=row.get("expected", 0))
        line.late = passed and line.missing > 0
        jurors.append(line)
    proposals = []
    queryset = Proposal.objects.filter(call=call).filter(Q(status=ProposalStatus.ELIGIBLE) | Q(pk__in=per_proposal))
    for proposal in queryset.select_related("administration").order_by("reference", "id"):
        row = per_proposal.get(proposal.pk, {})
        proposals.append(ProposalProgress(proposal=proposal, done=row.get("done", 0), drafts=row.get("drafts", 0),
                                          expected=row.get("expected", 0)))
    total = Progress(
        done=sum(line.done for line in jurors), drafts=sum(line.drafts for line in jurors),
        expected=sum(line.expected for line in jurors),
    )
    return Board(jurors=jurors, proposals=proposals, total=total, deadline_passed=passed)
