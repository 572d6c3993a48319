import factory

from applications.models import Administration, AdministrationKind, Membership, MembershipStatus, Proposal
from tests.ami.factories import CallFactory, UserFactory


class AdministrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Administration

    name = factory.Sequence(lambda n: f"Direction numéro {n}")
    acronym = factory.Sequence(lambda n: f"D{n}")
    kind = AdministrationKind.CENTRAL
    ministry = "Ministère de l'Intérieur"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    administration = factory.SubFactory(AdministrationFactory)
    status = MembershipStatus.ACTIVE


class ProposalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Proposal

    call = factory.SubFactory(CallFactory)
    administration = factory.SubFactory(AdministrationFactory)
    title = factory.Sequence(lambda n: f"Projet {n}")
    summary = "Un résumé."
    requested_amount_eur = 100_000
