"""Hostile uploads: a corpus of bad files built here, and a fuzz of the validator.

The policy (applications/validators.py): a file is accepted only when its content is a PDF that pypdf
reads, with at least one page, within the call's limits, not encrypted (even a PDF that opens without a
password is refused when encrypted: it may forbid printing and copying, and the jury must print and quote)
and without active content (JavaScript anywhere, launch or data-import actions, an automatic action at
opening other than going to a page). Everything else is refused with a French message saying why and what
to do, and leaves no row, no file on disk and no audit entry. Names are never trusted: the stored file has
a random name, the displayed one is sanitised.
"""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, TextStringObject

from ami.models import AuditEvent
from applications.models import Attachment
from applications.services import attachments as services
from applications.validators import check_pdf
from tests.applications import media
from tests.applications.factories import make_pdf_bytes
from tests.conftest import close_response

pytestmark = pytest.mark.django_db

media_root, stored_files = media.media_root, media.stored_files  # the fixture (autouse here) and its helper
owner, draft, upload = media.owner, media.draft, media.upload

MB = 1024 * 1024


# The corpus


def pdf_bytes(writer):
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def blank_writer(pages=1):
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    return writer


def with_open_action(action):
    writer = blank_writer()
    writer._root_object[NameObject("/OpenAction")] = action
    return pdf_bytes(writer)


def action(kind, **entries):
    entries = {NameObject(f"/{key}"): value for key, value in entries.items()}
    return DictionaryObject({NameObject("/S"): NameObject(kind), **entries})


def javascript_in_names():
    writer = blank_writer()
    script = writer._add_object(action("/JavaScript", JS=TextStringObject("app.alert('bonjour');")))
    tree = DictionaryObject({NameObject("/Names"): ArrayObject([TextStringObject("accueil"), script])})
    writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): tree})
    return pdf_bytes(writer)


def javascript_on_a_link():
    writer = blank_writer()
    link = DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
        NameObject("/Rect"): ArrayObject([NumberObject(0), NumberObject(0), NumberObject(100), NumberObject(100)]),
        NameObject("/A"): action("/JavaScript", JS=TextStringObject("this.exportDataObject({cName: 'x'});")),
    })
    writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(link)])
    return pdf_bytes(writer)


def javascript_when_a_page_opens():
    writer = blank_writer()
    writer.pages[0][NameObject("/AA")] = DictionaryObject(
        {NameObject("/O"): action("/JavaScript", JS=TextStringObject("app.launchURL('http://x.test');"))})
    return pdf_bytes(writer)


def javascript_after_a_goto():
    """A harmless-looking GoTo at opening whose /Next runs a script."""
    goto = action("/GoTo", D=ArrayObject([NumberObject(0), NameObject("/Fit")]),
                  Next=action("/JavaScript", JS=TextStringObject("app.alert(1);")))
    return with_open_action(goto)


def hex_escaped_javascript():
    """The names /JavaScript and /JS spelt with #xx escapes (readers decode them, so must we); the script is
    shortened by as many bytes as the escapes add, so the cross-reference offsets stay right."""
    content = with_open_action(action("/JavaScript", JS=TextStringObject("app.alert(1);XXXX")))
    escaped = content.replace(b"/S /JavaScript", b"/S /Java#53cript").replace(b"/JS (", b"/J#53 (").replace(
        b"XXXX)", b")")
    assert len(escaped) == len(content) and b"/JavaScript" not in escaped
    return escaped


HEX_ESCAPED_JAVASCRIPT = hex_escaped_javascript()


def encrypted(user_password, owner_password=None):
    writer = blank_writer()
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-128")
    return pdf_bytes(writer)


def zip_bomb():
    """20 MB of zeros compressed to a few kilobytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\0" * (20 * MB))
    return buffer.getvalue()


VALID = make_pdf_bytes(pages=2)
WINDOWS_PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44 + b"PE\0\0" + b"\x90" * 400
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 400
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 300 + b"\xff\xd9"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script>%PDF-1.7</body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'

NOT_PDF = "Ce fichier n'est pas un PDF (son contenu ne commence pas par la signature « %PDF- »)"
BROKEN = "Ce fichier PDF est illisible ou incomplet"
ENCRYPTED = "Ce PDF est protégé par un mot de passe ou chiffré"
ACTIVE = "Ce PDF contient du code ou des actions automatiques"

CORPUS = {
    # name: (bytes, expected code, expected start of the message)
    "windows-executable-renamed": (WINDOWS_PE, "not_pdf", NOT_PDF),
    "linux-executable-renamed": (ELF, "not_pdf", NOT_PDF),
    "jpeg-renamed": (JPEG, "not_pdf", NOT_PDF),
    "html-renamed": (HTML, "not_pdf", NOT_PDF),
    "svg-renamed": (SVG, "not_pdf", NOT_PDF),
    "zip-bomb-renamed": (zip_bomb(), "not_pdf", NOT_PDF),
    "polyglot-pdf-header-then-zip": (b"%PDF-1.7\n" + zip_bomb() + b"\n%%EOF\n", "pdf_unreadable", BROKEN),
    "polyglot-pdf-header-then-html": (b"%PDF-1.4\n" + HTML + b"\n%%EOF\n", "pdf_unreadable", BROKEN),
    "truncated-half": (VALID[: len(VALID) // 2], "pdf_truncated", BROKEN),
    "truncated-end-of-file-marker": (VALID[: VALID.rindex(b"%%EOF")], "pdf_truncated", BROKEN),
    "truncated-header-only": (b"%PDF-1.7\n", "pdf_truncated", BROKEN),
    "garbage-between-header-and-marker": (b"%PDF-1.4\n" + bytes(range(256)) * 4 + b"\n%%EOF\n", "pdf_unreadable",
                                          BROKEN),
    "no-page": (pdf_bytes(PdfWriter()), "pdf_no_pages", "Ce PDF ne contient aucune page."),
    "encrypted-with-a-password": (encrypted("secret"), "pdf_encrypted", ENCRYPTED),
    "encrypted-without-password-to-open": (encrypted("", "proprietaire"), "pdf_encrypted", ENCRYPTED),
    "javascript-document-level": (javascript_in_names(), "pdf_active_content", ACTIVE),
    "javascript-open-action": (with_open_action(action("/JavaScript", JS=TextStringObject("app.alert(1);"))),
                               "pdf_active_content", ACTIVE),
    "javascript-hex-escaped-name": (HEX_ESCAPED_JAVASCRIPT, "pdf_active_content", ACTIVE),
    "javascript-after-goto": (javascript_after_a_goto(), "pdf_active_content", ACTIVE),
    "javascript-on-a-link": (javascript_on_a_link(), "pdf_active_content", ACTIVE),
    "javascript-when-a-page-opens": (javascript_when_a_page_opens(), "pdf_active_content", ACTIVE),
    "launch-action": (with_open_action(action("/Launch", F=TextStringObject("C:\\Windows\\System32\\cmd.exe"))),
                      "pdf_active_content", ACTIVE),
    "uri-opened-automatically": (with_open_action(action("/URI", URI=TextStringObject("http://x.test/"))),
                                 "pdf_active_content", ACTIVE),
    "empty": (b"", "empty", "Le fichier est vide."),
}



# The corpus, through the validator, the service and the page


@pytest.mark.parametrize("kind", sorted(CORPUS))
def test_each_hostile_file_is_refused_with_its_reason_and_nothing_is_kept(kind, draft, owner, media_root):
    content, code, message = CORPUS[kind]
    audit_before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as error:
        services.add_attachment(proposal=draft, uploaded_file=upload(content), label="", by=owner)
    assert (error.value.code, error.value.message[: len(message)]) == (code, message)
    assert not Attachment.objects.exists()
    assert stored_files(media_root) == []
    assert AuditEvent.objects.count() == audit_before


def test_the_refusal_is_shown_on_the_page_and_nothing_is_attached(client, draft, owner, media_root):
    client.force_login(owner)
    url = f"/mes-projets/{draft.pk}/pieces/"
    for kind in ("javascript-open-action", "encrypted-without-password-to-open", "windows-executable-renamed"):
        content, _code, message = CORPUS[kind]
        response = client.post(url, {"file": upload(content, name="rapport.pdf"), "label": "Rapport"})
        assert response.status_code == 200
        assert message.replace("'", "&#x27;") in response.content.decode()
    assert not Attachment.objects.exists() and stored_files(media_root) == []


def test_an_open_action_that_only_goes_to_a_page_is_accepted(draft, owner):
    """Office suites set the opening view this way: a destination array, or a GoTo action."""
    for opening in (ArrayObject([NumberObject(0), NameObject("/Fit")]),
                    action("/GoTo", D=ArrayObject([NumberObject(0), NameObject("/Fit")]))):
        content = with_open_action(opening)
        assert check_pdf(upload(content), max_bytes=MB)[0] == len(content)


def test_a_link_to_a_web_page_is_accepted():
    writer = blank_writer()
    writer.add_uri(0, "https://www.numerique.gouv.fr/", [10, 10, 200, 40])
    content = pdf_bytes(writer)
    assert check_pdf(upload(content), max_bytes=MB)[0] == len(content)


def test_a_file_over_the_calls_limit_is_refused_with_both_sizes(draft, owner, media_root):
    content = make_pdf_bytes(padding=MB + 10_000)
    with pytest.raises(ValidationError) as error:
        services.add_attachment(proposal=draft, uploaded_file=upload(content), label="", by=owner)
    assert error.value.code == "file_too_large"
    assert error.value.message == "Le fichier pèse 1 Mo : la limite est de 1 Mo par fichier." or (
        error.value.message.startswith("Le fichier pèse 1,1 Mo : la limite est de 1 Mo par fichier."))
    assert not Attachment.objects.exists() and stored_files(media_root) == []


def test_the_projects_total_limit_is_kept(draft, owner, media_root):
    half = make_pdf_bytes(padding=700 * 1024)
    services.add_attachment(proposal=draft, uploaded_file=upload(half), label="", by=owner)
    services.add_attachment(proposal=draft, uploaded_file=upload(half), label="", by=owner)
    with pytest.raises(ValidationError) as error:
        services.add_attachment(proposal=draft, uploaded_file=upload(half), label="", by=owner)
    assert error.value.code == "total_too_large"
    assert Attachment.objects.count() == 2 and len(stored_files(media_root)) == 2


# Odd names: accepted when the content is a real PDF, under a safe name; the stored file is random


@pytest.mark.parametrize(("sent", "kept"), [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("..\\..\\boot.ini.pdf", "boot.ini.pdf"),
    ("con.pdf", "_con.pdf"),
    ("LPT1.pdf", "_LPT1.pdf"),
    ("x" * 400 + ".pdf", "x" * 146 + ".pdf"),
    ("facture\u202efdp.exe", "facturefdp.exe.pdf"),  # right-to-left override: would display "facture.exe.pdf"
    ("rapport\x00.exe.pdf", "rapport.exe.pdf"),
    ("<script>alert(1)</script>.pdf", "script_.pdf"),  # "/" ends a directory name
    ("re\u0301sume\u0301.pdf", "résumé.pdf"),  # decomposed accents, stored composed
    ("....", "document.pdf"),
])
def test_odd_names_are_made_safe_and_the_file_is_stored_under_a_random_name(sent, kept, draft, owner, media_root):
    attachment = services.add_attachment(proposal=draft, uploaded_file=upload(VALID, name=sent), label="", by=owner)
    assert attachment.original_name == kept
    (relative,) = stored_files(media_root)
    stored = Path(media_root) / relative
    assert stored.parent == Path(media_root) / "attachments" / str(draft.call_id) / str(draft.pk)
    assert len(stored.stem) == 32 and stored.suffix == ".pdf" and stored.read_bytes() == VALID


def test_the_download_names_the_file_safely(client, draft, owner):
    attachment = services.add_attachment(proposal=draft, uploaded_file=upload(VALID, name='a"b\r\nSet-Cookie: x.pdf'),
                                         label="", by=owner)
    client.force_login(owner)
    response = client.get(f"/pieces-jointes/{attachment.pk}/")
    disposition = response["Content-Disposition"]
    close_response(response)
    assert "\r" not in disposition and "\n" not in disposition and disposition.startswith("attachment;")
    assert response["Content-Type"] == "application/pdf" and response["X-Content-Type-Options"] == "nosniff"


# The fuzz


def _pypdf_reads(content):
    reader = PdfReader(io.BytesIO(content), strict=False)
    return not reader.is_encrypted and len(reader.pages) > 0


def _outcome(content, max_bytes):
    """(accepted, code): any exception other than ValidationError fails the test."""
    try:
        size, _sha256 = check_pdf(upload(content), max_bytes=max_bytes)
    except ValidationError as error:
        assert error.code and error.message.strip(), error
        return False, error.code
    assert size == len(content) <= max_bytes
    assert content.startswith(b"%PDF-") and _pypdf_reads(content)
    return True, None


def mutate(data, draw):
    """A few random byte edits of a valid PDF: flips, deletions, insertions, truncation."""
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        operation = draw(st.sampled_from(["flip", "delete", "insert", "truncate", "duplicate"]))
        if operation == "flip" and data:
            data[position] ^= draw(st.integers(1, 255))
        elif operation == "delete":
            del data[position:position + draw(st.integers(1, 64))]
        elif operation == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=64))
        elif operation == "truncate":
            del data[position:]
        else:
            data[position:position] = data[position:position + draw(st.integers(1, 256))]
    return bytes(data)


SEEDS = [VALID, CORPUS["javascript-open-action"][0], CORPUS["encrypted-without-password-to-open"][0],
         CORPUS["javascript-on-a-link"][0], HEX_ESCAPED_JAVASCRIPT]
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])


@FUZZ
@given(data=st.data())
def test_fuzz_mutated_pdfs_are_refused_cleanly_or_accepted_only_when_really_readable(data):
    seed = data.draw(st.sampled_from(SEEDS))
    content = mutate(seed, data.draw)
    _outcome(content, max_bytes=MB)


@FUZZ
@given(content=st.one_of(st.binary(max_size=2048), st.binary(max_size=2048).map(lambda b: b"%PDF-1.7\n" + b),
                         st.binary(max_size=2048).map(lambda b: b"%PDF-1.4\n" + b + b"\n%%EOF\n")),
       max_bytes=st.sampled_from([100, 1000, MB]))
def test_fuzz_random_bytes_are_refused_with_a_message(content, max_bytes):
    accepted, _code = _outcome(content, max_bytes)
    assert not accepted
