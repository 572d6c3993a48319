"""Checks on what applicants upload: PDF files judged by their content, never by their name or MIME type."""

import hashlib
import math
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PyPdfError

PDF_MAGIC = b"%PDF-"
MAX_NAME_LENGTH = 150
FALLBACK_STEM = "document"
# Readers (Acrobat among them) accept the end-of-file marker within the last 1024 bytes.
EOF_WINDOW = 1024
# Characters that some file systems or browsers refuse in a name, besides control characters.
UNSAFE_CHARACTERS = re.compile(r'[<>:"/\\|?*]')


MEGABYTE = 1024 * 1024


def megabytes(value):
    """The byte count of `value` megabytes (a call's limits are set in Mo, 1 Mo = 1024 × 1024 bytes)."""
    return value * MEGABYTE


def human_size(size):
    """A size as applicants read it, in the unit of the call's limits: "850 ko", "2,9 Mo", "10 Mo"."""
    kilobytes = math.ceil(size / 1024)
    if kilobytes < 1024:
        return _("%(size)s ko") % {"size": number_format(kilobytes)}
    value = math.ceil(size * 10 / MEGABYTE) / 10  # rounded up: a size over a limit never reads as the limit
    decimals = 0 if value == int(value) else 1
    return _("%(size)s Mo") % {"size": number_format(value, decimal_pos=decimals)}


def sanitise_filename(name):
    """A safe, readable file name ending in .pdf, at most 150 characters, from whatever the browser sent.

    Drops any directory part ("../../etc/passwd.pdf" gives "passwd.pdf"), control and formatting
    characters, characters unsafe on common file systems, and leading dots; an empty result gives
    "document.pdf". The stored file itself always gets a random name (models.attachment_path).
    """
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C")
    name = UNSAFE_CHARACTERS.sub("_", name)
    name = " ".join(name.split())
    stem = name[:-4] if name.lower().endswith(".pdf") else name
    stem = stem[:MAX_NAME_LENGTH - 4].strip(". ")  # no hidden file, no "..", no trailing dot
    return f"{stem or FALLBACK_STEM}.pdf"


def _read_all(uploaded_file):
    uploaded_file.seek(0)
    digest, head, tail, size = hashlib.sha256(), b"", b"", 0
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
        if len(head) < len(PDF_MAGIC):
            head += chunk[: len(PDF_MAGIC)]
        tail = (tail + chunk)[-EOF_WINDOW:]
        size += len(chunk)
    uploaded_file.seek(0)
    return size, digest.hexdigest(), head[: len(PDF_MAGIC)], tail


def _parse(uploaded_file):
    """Reads the PDF's structure and every page's dictionary (not the page contents)."""
    uploaded_file.seek(0)
    try:
        reader = PdfReader(uploaded_file, strict=False)
        pages = list(reader.pages)
        for page in pages:
            page.mediabox  # noqa: B018 — resolves the page's objects: a broken file fails here
    except FileNotDecryptedError:
        raise ValidationError(
            _("Ce PDF est protégé par un mot de passe : déposez une version sans mot de passe, "
              "que le jury pourra ouvrir."),
            code="pdf_encrypted",
        )
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError, OSError):
        raise ValidationError(_broken_message(), code="pdf_unreadable")
    finally:
        uploaded_file.seek(0)
    if not pages:
        raise ValidationError(_("Ce PDF ne contient aucune page."), code="pdf_no_pages")


def _broken_message():
    return _("Ce fichier PDF est illisible ou incomplet (peut-être un téléversement interrompu) : "
             "enregistrez-le de nouveau depuis votre logiciel, puis déposez-le.")


def check_pdf(uploaded_file, *, max_bytes):
    """Checks an uploaded file and returns (size in bytes, SHA-256 hex digest).

    Raises ValidationError with a French message when the file is empty, larger than `max_bytes`,
    does not start with the PDF signature "%PDF-", or does not parse as a PDF (truncated, corrupt,
    password-protected, no page). Reads the file; changes nothing.
    """
    size, sha256, head, tail = _read_all(uploaded_file)
    if size == 0:
        raise ValidationError(_("Le fichier est vide."), code="empty")
    if size > max_bytes:
        raise ValidationError(
            _("Le fichier pèse %(size)s : la limite est de %(max)s par fichier.")
            % {"size": human_size(size), "max": human_size(max_bytes)},
            code="file_too_large",
        )
    if head != PDF_MAGIC:
        raise ValidationError(
            _("Ce fichier n'est pas un PDF (son contenu ne commence pas par la signature « %PDF- ») : "
              "seuls les documents PDF sont acceptés, quel que soit le nom du fichier."),
            code="not_pdf",
        )
    if b"%%EOF" not in tail:
        raise ValidationError(_broken_message(), code="pdf_truncated")
    _parse(uploaded_file)
    return size, sha256
