"""A private MEDIA_ROOT for each test of the modules that store attachments, and the files stored in it."""

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Autouse in each module that takes it (`media_root = media.media_root`)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def stored_files(media_root):
    """The files under `media_root`, as sorted relative paths."""
    return sorted(path.relative_to(media_root).as_posix() for path in Path(media_root).rglob("*") if path.is_file())
