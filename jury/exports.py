"""Exports of a call's lists in CSV, XLSX, ODS and JSON, written row by row to a file.

Rows come from database iterators and go straight to the output, so memory stays flat however
large the call: CSV and JSON are written as text streams, XLSX through openpyxl's write-only
workbook, ODS through odfpy one row element at a time.
"""

import csv
import io
import json
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Q, Sum
from django.utils import translation
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from applications.models import AdministrationKind, Membership, MembershipStatus, Proposal, ProposalStatus
from jury.models import Conflict, Decision, ExportDataset, Outcome, Review, ReviewStatus
from jury.opendata import COLUMNS as LAUREATE_COLUMNS
from jury.opendata import iter_laureate_rows, laureate_decisions

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}

PROPOSAL_COLUMNS = [
    "appel", "reference", "titre", "administration", "type_administration", "ministere", "statut",
    "parcours_demande", "montant_demande_eur", "evaluations_soumises", "score_pondere_moyen",
    "decision", "parcours_attribue", "montant_accorde_eur", "rang", "motif",
]

# A spreadsheet reads a cell starting with one of these as a formula (CSV injection, OWASP).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
CHUNK = 2000


def neutralise(value):
    """Text that a spreadsheet would run as a formula gets a leading apostrophe; the rest is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


# --- datasets -----------------------------------------------------------------------------------


def laureate_rows(call):
    """The open-data rows (CONTRACT.md), streamed from the database."""
    return iter_laureate_rows(call)


def proposals_visible_in_exports(call, user):
    """The call's submitted proposals, without those `user` has a conflict of interest with.

    A staff member who also sits on the jury never receives, in an export, a proposal they are
    conflicted with: declared or staff conflicts, their own administrations, and their ministries
    when the call extends conflicts to the ministry.
    """
    proposals = Proposal.objects.filter(call=call).submitted()
    active = Membership.objects.filter(user=user, status=MembershipStatus.ACTIVE)
    hidden = Q(Exists(Conflict.objects.filter(juror__user=user, juror__call=call, proposal=OuterRef("pk"))))
    if call.jury_members.filter(user=user).exists():
        hidden |= Q(Exists(active.filter(administration=OuterRef("administration"))))
        if call.conflict_same_ministry:
            hidden |= Q(Exists(active.filter(administration__ministry=OuterRef("administration__ministry"))))
    return proposals.exclude(hidden)


def _mean_weighted_scores(call):
    """{proposal id: (number of submitted reviews, mean weighted score on 0–100)}.

    The database sums Σ weight × score per review (one row per review); Python averages per proposal.
    """
    per_review = (
        Review.objects.filter(proposal__call=call, status=ReviewStatus.SUBMITTED)
        .annotate(total=Sum(F("scores__value") * F("scores__criterion__weight")))
        .values_list("proposal_id", "total")
    )
    scale = call.score_scale_max
    per_proposal = {}
    for proposal_id, total in per_review:
        count, summed = per_proposal.get(proposal_id, (0, 0))
        per_proposal[proposal_id] = (count + 1, summed + (total or 0))
    return {
        pk: (count, Decimal(summed / (scale * count)).quantize(Decimal("0.01")))
        for pk, (count, summed) in per_proposal.items()
    }


def proposal_rows(call, user):
    """Every submitted proposal with its eligibility, scores and decision (staff exports)."""
    scores = _mean_weighted_scores(call)
    decisions = {
        row[0]: row[1:]
        for row in Decision.objects.filter(proposal__call=call).values_list(
            "proposal_id", "outcome", "track__name", "granted_amount_eur", "rank", "reason"
        )
    }
    with translation.override("fr"):  # read once: an override held across `yield` would leak to the caller
        kinds = {value: str(label) for value, label in AdministrationKind.choices}
        statuses = {value: str(label) for value, label in ProposalStatus.choices}
        outcomes = {value: str(label) for value, label in Outcome.choices}
    proposals = (
        proposals_visible_in_exports(call, user)
        .select_related("administration", "requested_track")
        .order_by("reference", "pk")
    )
    for proposal in proposals.iterator(chunk_size=CHUNK):
        count, mean = scores.get(proposal.pk, (0, None))
        outcome, track_name, granted, rank, reason = decisions.get(proposal.pk, ("", "", None, None, ""))
        yield {
            "appel": call.slug,
            "reference": proposal.reference,
            "titre": proposal.title,
            "administration": proposal.administration.name,
            "type_administration": kinds.get(proposal.administration.kind, ""),
            "ministere": proposal.administration.ministry,
            "statut": statuses[proposal.status],
            "parcours_demande": proposal.requested_track.name if proposal.requested_track else "",
            "montant_demande_eur": proposal.requested_amount_eur,
            "evaluations_soumises": count,
            "score_pondere_moyen": mean,
            "decision": outcomes.get(outcome, ""),
            "parcours_attribue": track_name or "",
            "montant_accorde_eur": granted,
            "rang": rank,
            "motif": reason,
        }


def dataset(call, name, user=None):
    """(columns, row iterator, row count) of one dataset of the call."""
    if name == ExportDataset.LAUREATES:
        return LAUREATE_COLUMNS, laureate_rows(call), laureate_decisions(call).count()
    if user is None:
        raise ValueError("the proposals export needs the user who asks for it (conflicts of interest)")
    return PROPOSAL_COLUMNS, proposal_rows(call, user), proposals_visible_in_exports(call, user).count()


# --- writers: each takes the columns, an iterator of dicts and a binary file ---------------------


def _cell_text(value):
    if value is None:
        return ""
    return str(value)


def write_csv(columns, rows, out, progress=None):
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    for done, row in enumerate(rows, start=1):
        writer.writerow([neutralise(_cell_text(row[c])) for c in columns])
        _tick(progress, done)
    text.flush()
    text.detach()


def _json_value(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


def write_json(columns, rows, out, progress=None):
    out.write(b"[")
    for done, row in enumerate(rows, start=1):
        if done > 1:
            out.write(b",")
        item = {c: _json_value(row[c]) for c in columns}
        out.write(b"\n" + json.dumps(item, ensure_ascii=False).encode())
        _tick(progress, done)
    out.write(b"\n]\n")


def _xlsx_cell(sheet, value):
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", neutralise(value))
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # never "f": a title such as =HYPERLINK(…) stays text
    return cell


def write_xlsx(columns, rows, out, progress=None, title="Export"):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for done, row in enumerate(rows, start=1):
        sheet.append([_xlsx_cell(sheet, _json_value(row[c])) for c in columns])
        _tick(progress, done)
    workbook.save(out)


def write_ods(columns, rows, out, progress=None, title="Export"):
    from jury.ods import OdsWriter

    with OdsWriter(out, sheet_name=title) as writer:
        writer.write_row(columns)
        for done, row in enumerate(rows, start=1):
            writer.write_row([_json_value(row[c]) for c in columns])
            _tick(progress, done)


WRITERS = {"csv": write_csv, "json": write_json, "xlsx": write_xlsx, "ods": write_ods}


def _tick(progress, done):
    if progress is not None and done % 500 == 0:
        progress(done)


def write(fmt, columns, rows, out, progress=None, title="Export"):
    """Writes the rows in format `fmt` to the binary file `out`."""
    if fmt in ("xlsx", "ods"):
        return WRITERS[fmt](columns, rows, out, progress=progress, title=title)
    return WRITERS[fmt](columns, rows, out, progress=progress)


def filename(call, name, fmt, today):
    return f"{call.slug}-{'laureats' if name == ExportDataset.LAUREATES else 'projets'}-{today:%Y-%m-%d}.{fmt}"
