"""Checks on what applicants upload: PDF files judged by their content, never by their name or MIME type."""

import hashlib
import math
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError

PDF_MAGIC = b"%PDF-"
MAX_NAME_LENGTH = 150
FALLBACK_STEM = "document"
# Readers (Acrobat among them) accept the end-of-file marker within the last 1024 bytes.
EOF_WINDOW = 1024
# Characters that some file systems or browsers refuse in a name, besides control characters.
UNSAFE_CHARACTERS = re.compile(r'[<>:"/\\|?*]')
WINDOWS_DEVICE_NAMES = {"CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(1, 10)),
                        *(f"LPT{n}" for n in range(1, 10))}


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
    characters, characters unsafe on common file systems, and leading dots; prefixes Windows device
    names ("con.pdf" gives "_con.pdf"); an empty result gives "document.pdf". The stored file itself
    always gets a random name (models.attachment_path).
    """
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C")
    name = UNSAFE_CHARACTERS.sub("_", name)
    name = " ".join(name.split())
    stem = name[:-4] if name.lower().endswith(".pdf") else name
    stem = stem[:MAX_NAME_LENGTH - 4].strip(". ")  # no hidden file, no "..", no trailing dot
    if stem.split(".")[0].upper() in WINDOWS_DEVICE_NAMES:  # "con.pdf" cannot be saved on Windows
        stem = f"_{stem}"[:MAX_NAME_LENGTH - 4]
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


def _encrypted_message():
    return _("Ce PDF est protégé par un mot de passe ou chiffré (même sans mot de passe à l'ouverture, il peut "
             "interdire l'impression ou la copie) : déposez une version sans protection, que le jury pourra ouvrir, "
             "imprimer et citer.")


def _parse(uploaded_file):
    """Reads the PDF's structure and every page's dictionary (not the page contents), then looks for active content."""
    uploaded_file.seek(0)
    try:
        reader = PdfReader(uploaded_file, strict=False)
        if reader.is_encrypted:  # refused even when it opens without a password: see _encrypted_message
            raise FileNotDecryptedError("encrypted")
        pages = list(reader.pages)
        for page in pages:
            page.mediabox  # noqa: B018 — resolves the page's objects: a broken file fails here
        active = _active_content(reader, pages)
    except FileNotDecryptedError:
        raise ValidationError(_encrypted_message(), code="pdf_encrypted")
    except Exception:  # noqa: BLE001 — hostile input: whatever the parser trips on, the file is unreadable
        raise ValidationError(_broken_message(), code="pdf_unreadable")
    finally:
        uploaded_file.seek(0)
    if not pages:
        raise ValidationError(_("Ce PDF ne contient aucune page."), code="pdf_no_pages")
    if active:
        raise ValidationError(
            _("Ce PDF contient du code ou des actions automatiques (%(what)s) : pour la sécurité du jury, ces "
              "éléments sont refusés. Enregistrez le document au format PDF sans script (par exemple avec "
              "« Imprimer » puis « Enregistrer au format PDF »), puis déposez-le.") % {"what": active},
            code="pdf_active_content",
        )


# Actions that run something when the jury opens or clicks the document: refused wherever they appear.
ACTIVE_ACTIONS = {"/JavaScript": "JavaScript", "/Launch": gettext_lazy("lancement d'un programme"),
                  "/ImportData": gettext_lazy("import de données"),
                  "/RichMediaExecute": gettext_lazy("exécution d'un média")}
MAX_ACTIONS = 10_000


def _resolved(value):
    return value.get_object() if hasattr(value, "get_object") else value


def _action_kinds(action, seen):
    """The /S of an action and of its /Next chain (a dict or an array), each object visited once."""
    pending, kinds = [action], []
    while pending and len(seen) < MAX_ACTIONS:
        item = _resolved(pending.pop())
        reference = getattr(item, "indirect_reference", None)
        key = (reference.idnum, reference.generation) if reference is not None else id(item)
        if item is None or key in seen:
            continue
        seen.add(key)
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            kinds.append(str(item.get("/S", "")))
            if "/JS" in item:
                kinds.append("/JavaScript")
            if item.get("/Next") is not None:
                pending.append(item["/Next"])
    return kinds


def _holders(catalog, pages):
    """The dictionaries that may carry actions (/A, /AA): the catalog, pages, their annotations, form fields."""
    holders = [catalog, *pages]
    for page in pages:
        holders += [_resolved(annotation) for annotation in _resolved(page.get("/Annots")) or []]
    form = _resolved(catalog.get("/AcroForm")) or {}
    holders += [_resolved(field) for field in _resolved(form.get("/Fields")) or []]
    return [holder for holder in holders if isinstance(holder, dict)]


def _active_content(reader, pages):
    """A French description of the first active content found (scripts, launch actions, an automatic action
    at opening other than going to a page), or "" when there is none. Follows the catalog, its name tree,
    every page, every annotation (links, form widgets) and the form's fields."""
    catalog = _resolved(reader.trailer["/Root"])
    names = _resolved(catalog.get("/Names")) or {}
    if "/JavaScript" in names:
        return ACTIVE_ACTIONS["/JavaScript"]
    seen, found = set(), []
    opening = _resolved(catalog.get("/OpenAction"))
    if isinstance(opening, dict):  # an array is a destination (the page and zoom to open at): harmless
        found += [kind if kind in ACTIVE_ACTIONS else "/OpenAction" for kind in _action_kinds(opening, seen)
                  if kind != "/GoTo"]
    for holder in _holders(catalog, pages):
        additional = _resolved(holder.get("/AA"))
        actions = [holder.get("/A"), *(additional.values() if isinstance(additional, dict) else [])]
        found += [kind for action in actions if action is not None for kind in _action_kinds(action, seen)]
    for kind in found:
        if kind in ACTIVE_ACTIONS:
            return ACTIVE_ACTIONS[kind]
        if kind == "/OpenAction":
            return _("action automatique à l'ouverture")
    return ""


def _broken_message():
    return _("Ce fichier PDF est illisible ou incomplet (peut-être un téléversement interrompu) : "
             "enregistrez-le de nouveau depuis votre logiciel, puis déposez-le.")


def check_pdf(uploaded_file, *, max_bytes):
    """Checks an uploaded file and returns (size in bytes, SHA-256 hex digest).

    Raises ValidationError with a French message when the file is empty, larger than `max_bytes`,
    does not start with the PDF signature "%PDF-", or does not parse as a PDF (truncated, corrupt,
    encrypted with or without a password, no page), or carries active content (JavaScript, a launch
    action, an automatic action at opening other than going to a page). Reads the file; changes nothing.
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
