import hashlib

import factory
from django.core.files.base import ContentFile

from applications.models import (
    Administration,
    AdministrationKind,
    Attachment,
    Membership,
    MembershipStatus,
    Proposal,
)
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


MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


class AttachmentFactory(factory.django.DjangoModelFactory):
    """A current PDF attachment; pass `content=b"..."` for other bytes (size and SHA-256 follow)."""

    class Meta:
        model = Attachment
        exclude = ("content",)

    proposal = factory.SubFactory(ProposalFactory)
    content = MINIMAL_PDF
    label = "Présentation du projet"
    original_name = factory.Sequence(lambda n: f"presentation-{n}.pdf")
    file = factory.LazyAttribute(lambda o: ContentFile(o.content, name=o.original_name))
    size = factory.LazyAttribute(lambda o: len(o.content))
    sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(o.content).hexdigest())


def complete_draft(*, call, administration, created_by=None, **fields):
    """A draft with every required field, every eligibility question of `call` answered, and a current PDF."""
    from ami.models import Track

    track = call.tracks.first() or Track.objects.create(call=call, code="technique", name="Technique et métier",
                                                        budget_eur=1_000_000, max_laureates=3)
    answers = {str(pk): True for pk in call.eligibility_questions.values_list("pk", flat=True)}
    values = {
        "title": "Tri des signalements sanitaires", "summary": "Trier les signalements plus vite.",
        "problem": "Dix mille signalements par an, triés à la main.", "data_description": "Cinq ans d'historique.",
        "ai_approach": "Classification de textes.", "team": "Deux agents et un data scientist.",
        "expected_benefits": "Des alertes traitées en un jour au lieu de dix.", "requested_track": track,
        "requested_amount_eur": 150_000, "eligibility_answers": answers, **fields,
    }
    proposal = ProposalFactory(call=call, administration=administration, created_by=created_by, **values)
    AttachmentFactory(proposal=proposal, original_name="presentation.pdf")
    return proposal


def make_pdf_bytes(pages=1, padding=0):
    """A small valid PDF made with pypdf (`padding` bytes of metadata make it bigger when a test needs size)."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if padding:
        writer.add_metadata({"/Subject": "x" * padding})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
