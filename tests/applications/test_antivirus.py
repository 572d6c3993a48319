"""The optional antivirus: the clamd INSTREAM client against a fake clamd started here, the pending state,
the verdicts (clean: the jury may read; infected: file deleted, owners told), and the jury's view of files."""

import socket
import socketserver
import struct
import tempfile
import threading
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from ami.models import AuditEvent, CallStatus, OutboundEmail
from applications import antivirus
from applications.models import Attachment, ProposalStatus, ScanStatus, Submission
from applications.services import attachments as services
from applications.services.submission import build_snapshot, snapshot_sha256
from applications.tasks import scan_attachment
from jury.models import ReviewStatus
from tests.ami.factories import CallFactory
from tests.applications import media
from tests.applications.factories import MembershipFactory, ProposalFactory, make_pdf_bytes
from tests.conftest import close_response
from tests.jury.factories import JuryMemberFactory, ReviewFactory

pytestmark = pytest.mark.django_db

media_root, stored_files = media.media_root, media.stored_files  # the fixture (autouse here) and its helper

# The antivirus test string, assembled here so that no file of the repository carries it whole.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
CLEAN_PDF = make_pdf_bytes(pages=2)
INFECTED_PDF = CLEAN_PDF + b"%" + EICAR + b"\n"  # a real PDF (the comment follows %%EOF) carrying the string


# A fake clamd: the INSTREAM protocol, OK or FOUND for the EICAR string


class ClamdHandler(socketserver.BaseRequestHandler):
    def _read(self, count):
        data = b""
        while len(data) < count:
            chunk = self.request.recv(count - len(data))
            if not chunk:
                raise ConnectionError("client went away")
            data += chunk
        return data

    def handle(self):
        command = self._read(len(b"zINSTREAM\0"))
        chunks = []
        while True:
            (length,) = struct.unpack("!L", self._read(4))
            if length == 0:
                break
            chunks.append(self._read(length))
        self.server.received.append({"command": command, "chunks": [len(c) for c in chunks],
                                     "data": b"".join(chunks)})
        if self.server.reply is not None:
            self.request.sendall(self.server.reply)
        elif EICAR in b"".join(chunks):
            self.request.sendall(b"stream: Eicar-Test-Signature FOUND\0")
        else:
            self.request.sendall(b"stream: OK\0")


class TCPClamd(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class UnixClamd(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


def serve(server):
    server.received, server.reply = [], None
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server


@pytest.fixture
def clamd(settings):
    """A fake clamd on a local TCP port, and the settings that turn the antivirus on."""
    server = serve(TCPClamd(("127.0.0.1", 0), ClamdHandler))
    settings.CLAMD_SOCKET, settings.CLAMD_HOST, settings.CLAMD_PORT = "", "127.0.0.1", server.server_address[1]
    settings.CLAMD_TIMEOUT_SECONDS = 5
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def clamd_down(settings):
    """The antivirus is on, but nothing listens on its port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CLAMD_SOCKET, settings.CLAMD_HOST, settings.CLAMD_PORT = "", "127.0.0.1", port
    settings.CLAMD_TIMEOUT_SECONDS = 2



@pytest.fixture
def owner():
    return MembershipFactory(administration__name="Direction générale de la santé",
                             user__email="porteuse@sante.gouv.fr", user__first_name="Claire").user


@pytest.fixture
def draft(owner):
    call = CallFactory(status=CallStatus.OPEN, title="AMI IA 2026")
    return ProposalFactory(call=call, administration=owner.memberships.get().administration,
                           title="Tri des signalements", created_by=owner)


def add(draft, owner, content, name="presentation.pdf"):
    return services.add_attachment(proposal=draft, label="Présentation", by=owner,
                                   uploaded_file=SimpleUploadedFile(name, content, content_type="application/pdf"))


# The client


def test_clamd_replies_are_read_as_verdicts():
    assert antivirus.parse_reply("stream: OK") == antivirus.Verdict(clean=True)
    assert antivirus.parse_reply("stream: Win.Test.EICAR_HDB-1 FOUND") == antivirus.Verdict(
        clean=False, signature="Win.Test.EICAR_HDB-1")
    for reply in ("INSTREAM size limit exceeded. ERROR", "", "stream: ERROR"):
        with pytest.raises(antivirus.ScanError):
            antivirus.parse_reply(reply)


def test_the_client_streams_the_file_in_length_prefixed_chunks(clamd):
    import io

    content = CLEAN_PDF + b"%" + b"x" * (150 * 1024) + b"\n"
    assert antivirus.scan_stream(io.BytesIO(content)) == antivirus.Verdict(clean=True)
    (received,) = clamd.received
    assert received["command"] == b"zINSTREAM\0"
    assert received["chunks"] == [64 * 1024, 64 * 1024, len(content) - 128 * 1024]
    assert received["data"] == content


def test_the_client_reports_the_signature_found(clamd):
    import io

    assert antivirus.scan_stream(io.BytesIO(INFECTED_PDF)) == antivirus.Verdict(
        clean=False, signature="Eicar-Test-Signature")


def test_the_client_talks_to_a_unix_socket_too(settings):
    import io

    folder = tempfile.mkdtemp(prefix="clamd", dir="/tmp")  # short: a socket path has at most 107 bytes
    path = f"{folder}/clamd.sock"
    server = serve(UnixClamd(path, ClamdHandler))
    settings.CLAMD_SOCKET, settings.CLAMD_HOST = path, ""
    try:
        assert antivirus.scan_stream(io.BytesIO(EICAR)).signature == "Eicar-Test-Signature"
        assert antivirus.scan_stream(io.BytesIO(CLEAN_PDF)).clean
    finally:
        server.shutdown()
        server.server_close()
        Path(path).unlink(missing_ok=True)
        Path(folder).rmdir()


def test_an_error_reply_or_no_clamd_is_a_scan_error(clamd, settings):
    import io

    clamd.reply = b"INSTREAM size limit exceeded. ERROR\0"
    with pytest.raises(antivirus.ScanError):
        antivirus.scan_stream(io.BytesIO(CLEAN_PDF))
    clamd.shutdown()
    clamd.server_close()
    with pytest.raises(antivirus.ScanError):
        antivirus.scan_stream(io.BytesIO(CLEAN_PDF))


# Off by default


def test_off_by_default_files_are_not_scanned_and_no_task_is_queued(draft, owner, django_capture_on_commit_callbacks):
    from django.conf import settings

    assert (settings.CLAMD_SOCKET, settings.CLAMD_HOST) == ("", "")
    assert not antivirus.enabled()
    with django_capture_on_commit_callbacks() as callbacks:
        attachment = add(draft, owner, CLEAN_PDF)
    assert attachment.scan_status == ScanStatus.NOT_SCANNED and attachment.scanned_at is None
    assert callbacks == []
    assert Attachment.objects.readable_by_jury().filter(pk=attachment.pk).exists()


# On: pending, then the verdict


def test_a_new_file_is_pending_until_clamd_declares_it_clean(clamd, draft, owner,
                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        attachment = add(draft, owner, CLEAN_PDF)
    assert Attachment.objects.get().scan_status == ScanStatus.PENDING
    assert not Attachment.objects.readable_by_jury().exists()
    assert len(callbacks) == 1
    callbacks[0]()  # the transaction committed: the task runs (in-process under the test settings)
    attachment.refresh_from_db()
    assert attachment.scan_status == ScanStatus.CLEAN and attachment.scanned_at is not None
    assert clamd.received[0]["data"] == CLEAN_PDF
    assert list(Attachment.objects.readable_by_jury()) == [attachment]
    event = AuditEvent.objects.get(action="attachment.scanned")
    assert (event.before, event.after["scan_status"]) == ({"scan_status": "pending"}, "clean")


def test_a_replacement_is_scanned_too(clamd, draft, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = add(draft, owner, CLEAN_PDF)
    with django_capture_on_commit_callbacks(execute=True):
        new = services.replace_attachment(attachment=first, by=owner, uploaded_file=SimpleUploadedFile(
            "v2.pdf", INFECTED_PDF, content_type="application/pdf"))
    first.refresh_from_db()
    new.refresh_from_db()
    assert (first.scan_status, new.scan_status) == (ScanStatus.CLEAN, ScanStatus.INFECTED)
    assert len(clamd.received) == 2


def test_an_infected_file_is_deleted_taken_out_of_the_proposal_and_its_owners_told(
        clamd, draft, owner, media_root, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        attachment = add(draft, owner, INFECTED_PDF, name="budget.pdf")
    attachment.refresh_from_db()
    assert attachment.scan_status == ScanStatus.INFECTED and attachment.replaced_at is not None
    assert stored_files(media_root) == []
    assert not draft.attachments.current().exists()
    email = OutboundEmail.objects.get(key=f"attachment-infected:{attachment.pk}:{owner.pk}")
    assert email.to == "porteuse@sante.gouv.fr" and email.proposal == draft
    assert email.subject == ("Pièce jointe retirée : un virus a été détecté dans « budget.pdf » — Attachment "
                             "removed: a virus was found")
    assert "Eicar-Test-Signature" in email.body_text and "Tri des signalements" in email.body_text
    assert AuditEvent.objects.get(action="attachment.scanned").after["signature"] == "Eicar-Test-Signature"
    client.force_login(owner)
    assert client.get(f"/pieces-jointes/{attachment.pk}/").status_code == 404


def test_while_clamd_is_down_the_upload_succeeds_and_the_file_stays_pending(
        clamd_down, draft, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        attachment = add(draft, owner, CLEAN_PDF)
    attachment.refresh_from_db()
    assert attachment.scan_status == ScanStatus.PENDING and attachment.scanned_at is None
    assert not Attachment.objects.readable_by_jury().exists()


def test_the_scan_task_is_idempotent_and_ignores_missing_rows(clamd, draft, owner,
                                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        attachment = add(draft, owner, CLEAN_PDF)
    scan_attachment.delay(attachment_id=attachment.pk)
    scan_attachment.delay(attachment_id=attachment.pk + 1000)
    assert len(clamd.received) == 1
    assert AuditEvent.objects.filter(action="attachment.scanned").count() == 1


# What the jury sees


@pytest.fixture
def jury_world(owner):
    call = CallFactory(status=CallStatus.REVIEW, slug="ami-ia-2026")
    proposal = ProposalFactory(call=call, administration=owner.memberships.get().administration,
                               status=ProposalStatus.ELIGIBLE, reference="AMI2026-0001", created_by=owner)
    files = {status: Attachment.objects.create(
        proposal=proposal, label=status, original_name=f"{status}.pdf", size=len(CLEAN_PDF), sha256="0" * 64,
        scan_status=status, file=SimpleUploadedFile(f"{status}.pdf", CLEAN_PDF)) for status in ScanStatus.values}
    at = timezone.now()
    snapshot = build_snapshot(proposal=proposal, number=1, at=at, by=owner)
    Submission.objects.create(proposal=proposal, number=1, proposal_version=1, snapshot=snapshot,
                              sha256=snapshot_sha256(snapshot), submitted_at=at, submitted_by=owner)
    seat = JuryMemberFactory(call=call, charter_accepted_at=timezone.now())
    ReviewFactory(proposal=proposal, juror=seat, status=ReviewStatus.ASSIGNED)
    return {"call": call, "proposal": proposal, "files": files, "juror": seat.user}


def test_the_jury_lists_and_opens_only_files_declared_clean_or_not_scanned(client, jury_world):
    client.force_login(jury_world["juror"])
    call, files = jury_world["call"], jury_world["files"]
    page = client.get(f"/jury/{call.slug}/projets/{jury_world['proposal'].pk}/").content.decode()
    listed = {status for status in ScanStatus.values if f"{status}.pdf" in page}
    assert listed == {ScanStatus.CLEAN, ScanStatus.NOT_SCANNED}
    answers = {}
    for status, attachment in files.items():
        response = client.get(f"/jury/{call.slug}/pieces-jointes/{attachment.pk}/")
        answers[status] = response.status_code
        close_response(response)
    assert answers == {"clean": 200, "not_scanned": 200, "pending": 404, "infected": 404}


def test_a_pending_file_appears_to_the_jury_once_clean(client, jury_world):
    pending = jury_world["files"][ScanStatus.PENDING]
    url = f"/jury/{jury_world['call'].slug}/pieces-jointes/{pending.pk}/"
    client.force_login(jury_world["juror"])
    assert client.get(url).status_code == 404
    antivirus.record_scan(attachment_id=pending.pk, verdict=antivirus.Verdict(clean=True))
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == CLEAN_PDF
