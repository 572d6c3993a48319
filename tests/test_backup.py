"""Backup and restore (issue 8): scripts/backup.sh then scripts/restore.sh into an empty database of the test's
own PostgreSQL cluster give back every row, every sequence, every media file and an audit chain that verifies."""

import hashlib
import os
import subprocess

import pytest

from tests import servers
from tests.conftest import ROOT
from tests.servers import portal_environment, run_django

pytestmark = pytest.mark.faults

throwaway_postgres = servers.throwaway_postgres  # the fixture, for this module

# The demo (three calls, their proposals, reviews, decisions, audit trail), two receipt PDFs and an export
# file with an accented name in MEDIA_ROOT.
SEED = """
from pathlib import Path
from django.conf import settings
from ami import demo
from ami.models import AuditEvent
from applications.models import Submission
from applications.services.submission import render_receipt_pdf

demo.seed()
for submission in Submission.objects.order_by("pk")[:2]:
    render_receipt_pdf(submission=submission)
export = Path(settings.MEDIA_ROOT) / "exports" / "évaluations-2019.csv"
export.parent.mkdir(parents=True, exist_ok=True)
export.write_text("référence;note\\nAMI2019-0001;17,5\\n", encoding="utf-8")
print(json.dumps({"audit": AuditEvent.objects.count()}))
"""

VERIFY_AUDIT = "from ami.audit import verify\nprint(json.dumps(verify()))"


def tables(cluster, database):
    names = [name for (name,) in cluster.query(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename", database=database)]
    return {name: cluster.query(f'SELECT count(*) FROM "{name}"', database=database)[0][0] for name in names}


def sequences(cluster, database):
    return dict(cluster.query("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'",
                              database=database))


def media_sums(folder):
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def script(name, env, *arguments):
    return subprocess.run(["bash", str(ROOT / "scripts" / name), *map(str, arguments)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


def test_backup_then_restore_into_an_empty_database_gives_back_every_row_and_file(throwaway_postgres, tmp_path):
    source_media, restored_media, folder = tmp_path / "media", tmp_path / "restored-media", tmp_path / "sauvegardes"
    source = portal_environment(database_url=throwaway_postgres.migrated_database("ami_source"),
                                media_root=source_media, DEBUG="1", PG_BINDIR=str(throwaway_postgres.bindir))
    seeded = run_django(SEED, source)

    backup = script("backup.sh", source, folder)
    assert backup.returncode == 0, backup.stderr
    dump = folder / os.path.basename(backup.stdout.strip())
    assert dump.name.startswith("ami-") and dump.suffix == ".dump"
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        [dump.name, dump.stem + "-media.tar.gz", dump.stem + ".sha256"])

    target = {**source, "DATABASE_URL": throwaway_postgres.create_database("ami_restored"),
              "MEDIA_ROOT": str(restored_media)}
    restore = script("restore.sh", target, dump)
    assert restore.returncode == 0, restore.stderr

    before, after = tables(throwaway_postgres, "ami_source"), tables(throwaway_postgres, "ami_restored")
    assert after == before
    assert before["ami_call"] == 3 and before["applications_submission"] > 100 and before["jury_review"] > 0
    assert sequences(throwaway_postgres, "ami_restored") == sequences(throwaway_postgres, "ami_source")
    sums = media_sums(restored_media)
    assert sums == media_sums(source_media)
    assert len([name for name in sums if name.endswith(".pdf")]) == 2
    assert "exports/évaluations-2019.csv" in sums
    ok, broken, checked = run_django(VERIFY_AUDIT, target)
    assert (ok, broken, checked) == (True, None, seeded["audit"])
    assert checked > 0


def test_restore_refuses_a_database_that_is_not_empty_and_changes_nothing(throwaway_postgres, tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    (media / "recepisse.pdf").write_bytes(b"%PDF-1.4 un fichier")
    env = portal_environment(database_url=throwaway_postgres.migrated_database("ami_live"), media_root=media,
                             PG_BINDIR=str(throwaway_postgres.bindir))
    backup = script("backup.sh", env, tmp_path / "sauvegardes")
    assert backup.returncode == 0, backup.stderr
    before = tables(throwaway_postgres, "ami_live")

    refused = script("restore.sh", {**env, "MEDIA_ROOT": str(tmp_path / "ailleurs")}, backup.stdout.strip())
    assert refused.returncode == 1
    assert "the database is not empty" in refused.stderr
    assert tables(throwaway_postgres, "ami_live") == before

    empty = throwaway_postgres.create_database("ami_empty")
    refused = script("restore.sh", {**env, "DATABASE_URL": empty}, backup.stdout.strip())  # media folder in use
    assert refused.returncode == 1
    assert "is not empty" in refused.stderr
    assert tables(throwaway_postgres, "ami_empty") == {}


def test_restore_refuses_a_backup_that_does_not_match_its_sums(throwaway_postgres, tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    env = portal_environment(database_url=throwaway_postgres.migrated_database("ami_sums"), media_root=media,
                             PG_BINDIR=str(throwaway_postgres.bindir))
    dump = script("backup.sh", env, tmp_path / "sauvegardes").stdout.strip()
    with open(dump, "ab") as handle:
        handle.write(b"octets de trop")
    target = {**env, "DATABASE_URL": throwaway_postgres.create_database("ami_sums_restored"),
              "MEDIA_ROOT": str(tmp_path / "restored")}
    refused = script("restore.sh", target, dump)
    assert refused.returncode == 1
    assert "does not match its SHA-256 sums" in refused.stderr
    assert tables(throwaway_postgres, "ami_sums_restored") == {}
