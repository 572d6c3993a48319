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
