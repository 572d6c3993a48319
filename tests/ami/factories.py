from datetime import timedelta

import factory
from django.utils import timezone

from ami.models import Call, CallStatus, Criterion, Track, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"agent{n}@example.gouv.fr")
    first_name = "Camille"
    last_name = factory.Sequence(lambda n: f"Agent{n}")
    password = factory.django.Password("correct horse battery staple")
    email_verified_at = factory.LazyFunction(timezone.now)


class CallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Call

    slug = factory.Sequence(lambda n: f"appel-{n}")
    title = factory.Sequence(lambda n: f"Appel numéro {n}")
    reference_prefix = factory.Sequence(lambda n: f"AMI{n:04d}")
    description = "Un appel pour expérimenter l'IA."
    eligibility_text = "Les administrations de l'État."
    opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=10))
    closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=20))
    status = CallStatus.DRAFT


class TrackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Track

    call = factory.SubFactory(CallFactory)
    code = factory.Sequence(lambda n: f"parcours-{n}")
    name = factory.Sequence(lambda n: f"Parcours {n}")
    budget_eur = 1_000_000
    max_laureates = 3


class CriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Criterion

    call = factory.SubFactory(CallFactory)
    position = factory.Sequence(lambda n: n)
    title = factory.Sequence(lambda n: f"Critère {n}")
    weight = 50


def ready_call(**kwargs):
    """A draft call that may open: one track, two criteria weighing 60 + 40."""
    call = CallFactory(**kwargs)
    TrackFactory(call=call)
    CriterionFactory(call=call, weight=60, position=0)
    CriterionFactory(call=call, weight=40, position=1)
    return call
