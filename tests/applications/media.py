"""What the attachment test modules share: a private MEDIA_ROOT for each test and the files stored in it, an
owner with a draft on a call of small limits (1 MB a file, 2 MB a proposal), and an upload."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ami.models import CallStatus
from tests.ami.factories import CallFactory
from tests.applications.factories import MembershipFactory, ProposalFactory


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Autouse in each module that takes it (`media_root = media.media_root`)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def stored_files(media_root):
    """The files under `media_root`, as sorted relative paths."""
    return sorted(path.relative_to(media_root).as_posix() for path in Path(media_root).rglob("*") if path.is_file())


def upload(content, name="dossier.pdf", content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def owner():
    return MembershipFactory(administration__name="Direction générale de la santé", administration__acronym="DGS").user


@pytest.fixture
def draft(owner):
    call = CallFactory(status=CallStatus.OPEN, max_file_mb=1, max_total_mb=2)
    return ProposalFactory(call=call, administration=owner.memberships.get().administration, title="Tri")
