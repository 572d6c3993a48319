import factory

from jury.models import Decision, JuryMember, Outcome, Review, ReviewStatus, Score
from tests.ami.factories import CallFactory, UserFactory
from tests.applications.factories import ProposalFactory


class JuryMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JuryMember

    call = factory.SubFactory(CallFactory)
    user = factory.SubFactory(UserFactory)


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    proposal = factory.SubFactory(ProposalFactory)
    juror = factory.SubFactory(JuryMemberFactory, call=factory.SelfAttribute("..proposal.call"))
    status = ReviewStatus.SUBMITTED


class ScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Score

    review = factory.SubFactory(ReviewFactory)
    value = 3


class DecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Decision

    proposal = factory.SubFactory(ProposalFactory)
    outcome = Outcome.LAUREATE
    track = None
    granted_amount_eur = 100_000
    score = 80
    rank = 1
    reason = "Retenu."


class JuryInvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "jury.JuryInvitation"

    call = factory.SubFactory(CallFactory)
    email = factory.Sequence(lambda n: f"expert{n}@exemple.fr")


class ConflictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "jury.Conflict"

    juror = factory.SubFactory(JuryMemberFactory)
    proposal = factory.SubFactory(ProposalFactory, call=factory.SelfAttribute("..juror.call"))
    source = "staff"
    reason = "Ancien collègue du porteur."


def scored_proposal(*, call, track, marks, reference, amount=100_000, administration=None, status="eligible"):
    """An eligible proposal of `call` with one submitted review per (juror, [note per criterion]) in `marks`."""
    extra = {"administration": administration} if administration is not None else {}
    proposal = ProposalFactory(call=call, reference=reference, requested_track=track, requested_amount_eur=amount,
                               status=status, **extra)
    criteria = list(call.criteria.order_by("position", "id"))
    for juror, notes in marks:
        review = ReviewFactory(proposal=proposal, juror=juror)
        for criterion, note in zip(criteria, notes, strict=True):
            ScoreFactory(review=review, criterion=criterion, value=note)
    return proposal
