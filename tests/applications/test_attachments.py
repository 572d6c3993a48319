"""Attachments: PDF judged by content, size limits, safe names, history, and downloads for members only."""

import hashlib
import io

import pytest
from django.core.exceptions import ValidationError

from ami.models import AuditEvent
from applications.models import Attachment, ProposalStatus
from applications.services import attachments as services
from applications.validators import check_pdf, sanitise_filename
from tests.ami.factories import UserFactory
from tests.applications import media
from tests.applications.factories import MembershipFactory, ProposalFactory, make_pdf_bytes

pytestmark = pytest.mark.django_db

media_root, stored_files = media.media_root, media.stored_files  # the fixture (autouse here) and its helper
owner, draft, upload = media.owner, media.draft, media.upload

MB = 1024 * 1024
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200  # the start of a Linux executable



@pytest.fixture
def colleague(owner):
    return MembershipFactory(administration=owner.memberships.get().administration).user


@pytest.fixture
def outsider():
    return MembershipFactory(administration__name="CHU de Bordeaux").user


def add(draft, content, name="dossier.pdf", by=None, label=""):
    return services.add_attachment(proposal=draft, uploaded_file=upload(content, name), label=label, by=by)


# Names

@pytest.mark.parametrize(("sent", "kept"), [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("..\\..\\Windows\\system32\\note.pdf", "note.pdf"),
    ("C:\\Users\\camille\\Bureau\\Présentation projet.PDF", "Présentation projet.pdf"),
    ("rapport\x00\x1b[31m.pdf", "rapport[31m.pdf"),
    ("  .cache.pdf", "cache.pdf"),
    ("a<b>c:d|e?f*g\"h.pdf", "a_b_c_d_e_f_g_h.pdf"),
    ("lettre\u202egnp.pdf", "lettregnp.pdf"),  # right-to-left override: a format character
    ("notes.txt", "notes.txt.pdf"),
    ("..", "document.pdf"),
    ("", "document.pdf"),
    (".pdf", "document.pdf"),
])
def test_file_names_are_sanitised(sent, kept):
    assert sanitise_filename(sent) == kept


def test_long_names_are_cut_to_150_characters_ending_in_pdf():
    name = sanitise_filename("é" * 300 + ".pdf")
    assert len(name) == 150 and name == "é" * 146 + ".pdf"


# Content checks

def test_a_valid_pdf_gives_its_size_and_sha256():
    content = make_pdf_bytes(pages=2)
    assert check_pdf(upload(content), max_bytes=MB) == (len(content), hashlib.sha256(content).hexdigest())


@pytest.mark.parametrize(("content", "code", "message"), [
    (b"", "empty", "Le fichier est vide."),
    (ELF, "not_pdf", "Ce fichier n'est pas un PDF (son contenu ne commence pas par la signature « %PDF- »)"),
    (b"<html><body>%PDF-1.7</body></html>", "not_pdf", "Ce fichier n'est pas un PDF"),
    (make_pdf_bytes()[:300], "pdf_truncated", "Ce fichier PDF est illisible ou incomplet"),
    (b"%PDF-1.4\n" + b"\x00" * 500 + b"\n%%EOF\n", "pdf_unreadable", "Ce fichier PDF est illisible ou incomplet"),
])
def test_bad_content_is_refused_with_a_french_message(content, code, message):
    with pytest.raises(ValidationError) as error:
        check_pdf(upload(content), max_bytes=MB)
    assert error.value.code == code and error.value.message.startswith(message)


def test_a_password_protected_pdf_is_refused():
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=100, height=100)
    writer.encrypt("secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(ValidationError) as error:
        check_pdf(upload(buffer.getvalue()), max_bytes=MB)
    assert error.value.code == "pdf_encrypted" and "protégé par un mot de passe" in error.value.message


def test_the_extension_and_the_browsers_type_are_never_trusted():
    with pytest.raises(ValidationError):
        check_pdf(upload(ELF, name="rapport.pdf", content_type="application/pdf"), max_bytes=MB)
    content = make_pdf_bytes()
    assert check_pdf(upload(content, name="scan.jpeg", content_type="image/jpeg"), max_bytes=MB)[0] == len(content)


def test_a_file_over_the_limit_is_refused_before_parsing():
    with pytest.raises(ValidationError) as error:
        check_pdf(upload(make_pdf_bytes(padding=2000)), max_bytes=1000)
    assert error.value.code == "file_too_large"
    assert error.value.message.startswith("Le fichier pèse 3 ko : la limite est de 1 ko par fichier.")


# The service

def test_add_attachment_stores_the_file_under_media_root_with_a_random_name(draft, owner, media_root):
    content = make_pdf_bytes()
    attachment = add(draft, content, name="../../etc/passwd.pdf", by=owner, label=" Présentation ")
    assert (attachment.original_name, attachment.label, attachment.size, attachment.sha256, attachment.uploaded_by) == (
        "passwd.pdf", "Présentation", len(content), hashlib.sha256(content).hexdigest(), owner)
    [stored] = stored_files(media_root)
    assert stored.startswith(f"attachments/{draft.call_id}/{draft.pk}/") and stored.endswith(".pdf")
    assert "passwd" not in stored and (media_root / stored).read_bytes() == content
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.call, event.target_id, event.after["sha256"]) == (
        "attachment.added", owner, draft.call, str(attachment.pk), attachment.sha256)


@pytest.mark.parametrize("content", [b"", ELF, make_pdf_bytes()[:-30], make_pdf_bytes(padding=MB + 10)])
def test_bad_files_leave_no_row_no_file_and_no_audit(draft, owner, media_root, content):
    with pytest.raises(ValidationError):
        add(draft, content, by=owner)
    assert (Attachment.objects.count(), stored_files(media_root), AuditEvent.objects.count()) == (0, [], 0)


def test_the_total_counts_current_attachments_only(draft, owner, media_root):
    near_limit = make_pdf_bytes(padding=MB - 5000)  # just under 1 Mo each; the call allows 2 Mo in all
    first = add(draft, near_limit, by=owner)
    add(draft, near_limit, by=owner)
    with pytest.raises(ValidationError) as error:
        add(draft, near_limit, by=owner)
    assert error.value.code == "total_too_large"
    assert error.value.message == ("Avec ce fichier, les pièces jointes du projet pèseraient 3 Mo : la limite est "
                                   "de 2 Mo par projet. Retirez ou allégez une pièce, puis réessayez.")
    assert len(stored_files(media_root)) == 2
    services.remove_attachment(attachment=first, by=owner)  # removed: no longer counts
    add(draft, near_limit, by=owner)
    assert Attachment.objects.filter(proposal=draft).current().count() == 2
    assert services.current_total(draft) == 2 * len(near_limit)


def test_replacing_keeps_the_old_file_in_the_history(draft, owner, colleague, media_root):
    old = add(draft, make_pdf_bytes(), name="v1.pdf", by=owner, label="Présentation")
    new = services.replace_attachment(attachment=old, uploaded_file=upload(make_pdf_bytes(pages=2), "v2.pdf"),
                                      by=colleague)
    old.refresh_from_db()
    with old.file.open("rb") as handle:
        assert old.replaced_at is not None and handle.read() == make_pdf_bytes()
    assert (new.replaces, new.label, new.original_name, new.replaced_at) == (old, "Présentation", "v2.pdf", None)
    assert list(draft.attachments.current()) == [new] and draft.attachments.count() == 2
    assert len(stored_files(media_root)) == 2
    event = AuditEvent.objects.get(action="attachment.replaced")
    assert (event.actor, event.before["name"], event.after["name"]) == (colleague, "v1.pdf", "v2.pdf")
    with pytest.raises(ValidationError) as error:  # the old one is no longer current
        services.replace_attachment(attachment=old, uploaded_file=upload(make_pdf_bytes()), by=owner)
    assert error.value.code == "not_current"
    assert len(stored_files(media_root)) == 2


def test_replacing_by_a_bigger_file_counts_without_the_replaced_one(draft, owner):
    big = make_pdf_bytes(padding=MB - 5000)
    first = add(draft, big, by=owner)
    add(draft, big, by=owner)
    services.replace_attachment(attachment=first, uploaded_file=upload(big), by=owner)  # 2 Mo in all: fits
    assert draft.attachments.current().count() == 2


def test_removing_keeps_the_row_and_the_file(draft, owner, media_root):
    attachment = add(draft, make_pdf_bytes(), by=owner)
    services.remove_attachment(attachment=attachment, by=owner)
    attachment.refresh_from_db()
    assert attachment.replaced_at is not None and len(stored_files(media_root)) == 1
    assert AuditEvent.objects.filter(action="attachment.removed", target_id=str(attachment.pk)).count() == 1
    with pytest.raises(ValidationError):
        services.remove_attachment(attachment=attachment, by=owner)


@pytest.mark.parametrize("status", [ProposalStatus.SUBMITTED, ProposalStatus.WITHDRAWN, ProposalStatus.LAUREATE])
def test_attachments_change_only_on_a_draft(draft, owner, media_root, status):
    attachment = add(draft, make_pdf_bytes(), by=owner)
    draft.status = status
    draft.save()
    for change in (lambda: add(draft, make_pdf_bytes(), by=owner),
                   lambda: services.replace_attachment(attachment=attachment, uploaded_file=upload(make_pdf_bytes()),
                                                       by=owner),
                   lambda: services.remove_attachment(attachment=attachment, by=owner)):
        with pytest.raises(ValidationError) as error:
            change()
        assert error.value.code == "not_draft"
        assert error.value.message == ("Les pièces jointes ne peuvent plus être modifiées : "
                                       "ce projet n'est plus un brouillon.")
    attachment.refresh_from_db()
    assert attachment.replaced_at is None and draft.attachments.count() == 1 and len(stored_files(media_root)) == 1


def test_a_failure_after_writing_the_file_removes_it(draft, owner, media_root, monkeypatch):
    def broken_audit(**kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(services.audit, "record", broken_audit)
    with pytest.raises(RuntimeError):
        add(draft, make_pdf_bytes(), by=owner)
    assert (Attachment.objects.count(), stored_files(media_root)) == (0, [])


# The pages

def page_text(response):
    return response.content.decode()


def post_file(client, draft, content, name="dossier.pdf", label=""):
    return client.post(f"/mes-projets/{draft.pk}/pieces/", {"file": upload(content, name), "label": label},
                       follow=True)


def test_the_attachments_page_is_the_last_step_and_uploads_a_pdf(client, owner, draft):
    client.force_login(owner)
    page = page_text(client.get(f"/mes-projets/{draft.pk}/pieces/"))
    assert 'aria-current="page">Les pièces jointes</a>' in page and "fr-stepper" not in page
    assert "Après les 8 étapes du formulaire" in page
    assert "Aucune pièce jointe pour l'instant." in page
    assert "0 ko utilisés sur 2 Mo ; 1 Mo au maximum par fichier." in page
    assert "Taille maximale : 1 Mo par fichier, 2 Mo pour l&#x27;ensemble des pièces du projet." in page
    assert 'enctype="multipart/form-data"' in page and 'accept="application/pdf,.pdf"' in page
    response = post_file(client, draft, make_pdf_bytes(), name="Présentation.pdf", label="Note de présentation")
    page = page_text(response)
    attachment = Attachment.objects.get()
    assert response.redirect_chain == [(f"/mes-projets/{draft.pk}/pieces/", 302)]
    assert "« Présentation.pdf » est joint au projet." in page
    assert f'href="/pieces-jointes/{attachment.pk}/">Présentation.pdf' in page and "Note de présentation" in page
    assert attachment.sha256 in page


@pytest.mark.parametrize(("content", "message"), [
    (ELF, "Ce fichier n&#x27;est pas un PDF"),
    (b"", "Le fichier est vide."),
    (make_pdf_bytes()[:-30], "Ce fichier PDF est illisible ou incomplet"),
    (make_pdf_bytes(padding=MB + 10), "Le fichier pèse 1,1 Mo : la limite est de 1 Mo par fichier."),
])
def test_a_bad_upload_is_shown_beside_the_field_and_saves_nothing(client, owner, draft, media_root, content, message):
    client.force_login(owner)
    page = page_text(post_file(client, draft, content, name="programme.pdf"))
    assert "Le formulaire contient des erreurs" in page
    field_messages = page[page.index('id="id_file-messages"'):]
    assert message in field_messages[:field_messages.index("</div>")]
    assert (Attachment.objects.count(), stored_files(media_root)) == (0, [])


def test_a_path_in_the_name_is_dropped_and_said(client, owner, draft, media_root):
    client.force_login(owner)
    content = make_pdf_bytes()
    response = client.post(f"/mes-projets/{draft.pk}/pieces/", {
        "file": upload(content, name="fichier:étrange?.pdf")}, follow=True)
    assert "Le nom du fichier a été simplifié en « fichier_étrange_.pdf »." in page_text(response)
    [stored] = stored_files(media_root)
    assert stored.startswith(f"attachments/{draft.call_id}/{draft.pk}/")


def test_a_total_over_the_limit_is_refused_on_the_page(client, owner, draft, media_root):
    near_limit = make_pdf_bytes(padding=MB - 5000)
    add(draft, near_limit, by=owner)
    add(draft, near_limit, by=owner)
    client.force_login(owner)
    page = page_text(post_file(client, draft, near_limit))
    assert "pèseraient 3 Mo : la limite est de 2 Mo par projet." in page
    assert draft.attachments.count() == 2 and len(stored_files(media_root)) == 2


def test_replace_and_remove_from_the_page_keep_the_history(client, owner, colleague, draft):
    first = add(draft, make_pdf_bytes(), name="budget-v1.pdf", by=owner)
    second = add(draft, make_pdf_bytes(), name="lettre.pdf", by=owner)
    client.force_login(colleague)
    page = page_text(client.get(f"/mes-projets/{draft.pk}/pieces/{first.pk}/remplacer/"))
    assert "Fichier actuel : « budget-v1.pdf »" in page
    response = client.post(f"/mes-projets/{draft.pk}/pieces/{first.pk}/remplacer/",
                           {"file": upload(make_pdf_bytes(pages=3), "budget-v2.pdf")}, follow=True)
    assert "« budget-v1.pdf » est remplacé par « budget-v2.pdf »" in page_text(response)
    page = page_text(client.post(f"/mes-projets/{draft.pk}/pieces/{second.pk}/retirer/", follow=True))
    assert "« lettre.pdf » est retiré du projet ; il reste dans l&#x27;historique." in page
    history = page[page.index('id="attachment-history"'):]
    assert "budget-v1.pdf" in history and "par « budget-v2.pdf »" in history
    assert "lettre.pdf" in history and "Retiré le" in history
    assert f'href="/pieces-jointes/{first.pk}/"' in history  # the old file stays downloadable
    current = page[page.index('id="current-attachments"'):page.index('id="attachment-history"')]
    assert "budget-v2.pdf" in current and "lettre.pdf" not in current and "budget-v1.pdf" not in current


def test_replacing_by_a_bad_file_keeps_the_current_one(client, owner, draft):
    attachment = add(draft, make_pdf_bytes(), by=owner)
    client.force_login(owner)
    page = page_text(client.post(f"/mes-projets/{draft.pk}/pieces/{attachment.pk}/remplacer/",
                                 {"file": upload(ELF, "v2.pdf")}))
    assert "Ce fichier n&#x27;est pas un PDF" in page
    attachment.refresh_from_db()
    assert attachment.replaced_at is None and draft.attachments.count() == 1


def test_a_submitted_proposal_shows_its_attachments_but_refuses_changes(client, owner, draft, media_root):
    attachment = add(draft, make_pdf_bytes(), by=owner)
    draft.status = ProposalStatus.SUBMITTED
    draft.save()
    client.force_login(owner)
    page = page_text(client.get(f"/mes-projets/{draft.pk}/pieces/"))
    assert 'id="attachments-locked"' in page and 'id="attachment-form"' not in page and "Remplacer" not in page
    message = "Les pièces jointes ne peuvent plus être modifiées : ce projet n&#x27;est plus un brouillon"
    for response in (post_file(client, draft, make_pdf_bytes()),
                     client.post(f"/mes-projets/{draft.pk}/pieces/{attachment.pk}/retirer/", follow=True),
                     client.post(f"/mes-projets/{draft.pk}/pieces/{attachment.pk}/remplacer/",
                                 {"file": upload(make_pdf_bytes())}, follow=True)):
        assert message in page_text(response)
    attachment.refresh_from_db()
    assert attachment.replaced_at is None and draft.attachments.count() == 1 and len(stored_files(media_root)) == 1


def test_outsiders_and_anonymous_get_404_on_every_attachment_url(client, owner, outsider, draft):
    attachment = add(draft, make_pdf_bytes(), by=owner)
    pending = MembershipFactory(administration=draft.administration, status="pending").user
    urls = [f"/mes-projets/{draft.pk}/pieces/", f"/mes-projets/{draft.pk}/pieces/{attachment.pk}/remplacer/"]
    for user in (outsider, pending):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 404
        assert post_file(client, draft, make_pdf_bytes()).status_code == 404
        assert client.post(f"/mes-projets/{draft.pk}/pieces/{attachment.pk}/retirer/").status_code == 404
        assert client.get(f"/pieces-jointes/{attachment.pk}/").status_code == 404
    client.logout()
    assert client.get(f"/pieces-jointes/{attachment.pk}/").status_code == 404
    assert client.get(urls[0]).status_code == 302  # the pages ask to sign in
    attachment.refresh_from_db()
    assert attachment.replaced_at is None and draft.attachments.count() == 1


def test_another_proposals_attachment_is_404_through_this_proposals_urls(client, owner, outsider, draft):
    theirs = ProposalFactory(call=draft.call, administration=outsider.memberships.get().administration)
    attachment = add(theirs, make_pdf_bytes(), by=outsider)
    client.force_login(owner)
    assert client.get(f"/mes-projets/{draft.pk}/pieces/{attachment.pk}/remplacer/").status_code == 404
    assert client.post(f"/mes-projets/{draft.pk}/pieces/{attachment.pk}/retirer/").status_code == 404
    attachment.refresh_from_db()
    assert attachment.replaced_at is None


@pytest.mark.parametrize("persona", ["owner", "colleague", "staff"])
def test_members_and_staff_download_with_safe_headers(client, owner, colleague, draft, persona):
    content = make_pdf_bytes()
    attachment = add(draft, content, name="Présentation du projet.pdf", by=owner)
    services.replace_attachment(attachment=attachment, uploaded_file=upload(make_pdf_bytes(pages=2)), by=owner)
    user = {"owner": owner, "colleague": colleague, "staff": UserFactory(is_staff=True)}[persona]
    client.force_login(user)
    response = client.get(f"/pieces-jointes/{attachment.pk}/")  # replaced: still in the history
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''Pr%C3%A9sentation%20du%20projet.pdf")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


def test_a_file_missing_from_storage_is_404(client, owner, draft, media_root):
    attachment = add(draft, make_pdf_bytes(), by=owner)
    (media_root / attachment.file.name).unlink()
    client.force_login(owner)
    assert client.get(f"/pieces-jointes/{attachment.pk}/").status_code == 404


def test_the_list_page_query_count_does_not_grow_with_the_attachments(client, owner, draft,
                                                                      django_assert_max_num_queries):
    client.force_login(owner)
    add(draft, make_pdf_bytes(), by=owner)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(f"/mes-projets/{draft.pk}/pieces/")
    first = add(draft, make_pdf_bytes(), by=owner)
    add(draft, make_pdf_bytes(), by=owner)
    services.replace_attachment(attachment=first, uploaded_file=upload(make_pdf_bytes()), by=owner)
    with django_assert_max_num_queries(len(one)):
        client.get(f"/mes-projets/{draft.pk}/pieces/")


@pytest.mark.parametrize(("size", "shown"), [
    (0, "0 ko"), (1, "1 ko"), (1024, "1 ko"), (1025, "2 ko"), (MB - 1, "1 Mo"), (MB, "1 Mo"),
    (MB + 1, "1,1 Mo"), (10 * MB, "10 Mo"), (int(2.91 * MB), "3 Mo"), (int(2.45 * MB), "2,5 Mo"),
])
def test_sizes_read_in_the_unit_of_the_limits_and_round_up(size, shown):
    from applications.validators import human_size

    assert human_size(size) == shown
