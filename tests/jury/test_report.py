"""The selection report: snapshot, rendering (PDF/UA, determinism, hostile text), the worker path, the pages,
the command, the applicant's evaluation sheet and the jurors' choice of published comments."""

import hashlib
import html as htmllib
import io
import json

import pypdf
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from ami.models import AuditEvent, CallStatus
from applications.models import AdministrationKind
from jury.models import ReportStatus, Review, Score, SelectionReport
from jury.report import services
from jury.report.fetcher import BASE_URL, StaticOnlyFetcher
from jury.report.render import html_to_pdf, render_report, report_context, report_html
from jury.report.snapshot import audit_head, canonical_json, snapshot_sha256, take_snapshot
from jury.services.deliberation import decide_call_as_scripted
from jury.services.reviews import save_review
from tests.ami.factories import CallFactory, CriterionFactory, TrackFactory, UserFactory
from tests.applications.factories import AdministrationFactory, MembershipFactory
from tests.jury.factories import JuryMemberFactory, ReviewFactory, scored_proposal

pytestmark = pytest.mark.django_db

HOSTILE_TITLE = "<script>alert('x')</script> Détection"
HOSTILE_SUMMARY = "Voir <img src=file:///etc/passwd> et " + "A" * 400 + " fin."
RTL_NAME = "Direction \u202egnilbmerT\u202c des essais"


def page(response):
    return htmllib.unescape(response.content.decode())


def stored(report):
    with report.file.open("rb") as handle:
        return handle.read()


def text_of(pdf):
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


@pytest.fixture
def setup():
    """A call in deliberation: two criteria (60 + 40), one track of 300 000 € for 2 laureates, three proposals
    (one with hostile text), decided and locked by the chair."""
    call = CallFactory(status=CallStatus.DELIBERATION, score_scale_max=5, title="Appel d'essai <b>IA</b>")
    first, second = CriterionFactory(call=call, weight=60, position=0, title="Impact"), CriterionFactory(
        call=call, weight=40, position=1, title="Données")
    track = TrackFactory(call=call, name="Technique et métier", budget_eur=300_000, max_laureates=2)
    chair = JuryMemberFactory(call=call, role="chair", pair_label="B1")
    member = JuryMemberFactory(call=call, pair_label="B1")
    hostile_admin = AdministrationFactory(name=RTL_NAME, kind=AdministrationKind.HOSPITAL)
    proposals = {
        "A-1": scored_proposal(call=call, track=track, reference="A-1", amount=150_000,
                               marks=[(member, [5, 4]), (chair, [4, 4])], administration=hostile_admin),
        "A-2": scored_proposal(call=call, track=track, reference="A-2", amount=100_000, marks=[(member, [3, 3])]),
        "A-3": scored_proposal(call=call, track=track, reference="A-3", amount=100_000, marks=[(member, [1, 2])]),
    }
    proposals["A-1"].title, proposals["A-1"].summary = HOSTILE_TITLE, HOSTILE_SUMMARY
    proposals["A-1"].save()
    staff = UserFactory(is_staff=True)
    return {"call": call, "track": track, "chair": chair, "member": member, "staff": staff, "p": proposals,
            "criteria": (first, second), "admin": hostile_admin}


@pytest.fixture
def locked(setup):
    decide_call_as_scripted(call=setup["call"], by=setup["chair"].user)
    return setup


def render(snapshot, **kwargs):
    sha = snapshot_sha256(snapshot)
    return render_report(snapshot, sha256=sha, audit_head=kwargs.get("head", "f" * 64), version=1,
                         is_draft=snapshot["draft"], on_stage=kwargs.get("on_stage"))


# ------------------------------------------------------------------------------------------------ snapshot


def test_snapshot_is_plain_json_with_a_stable_hash(locked):
    snapshot = take_snapshot(locked["call"])
    assert json.loads(canonical_json(snapshot)) == snapshot
    assert snapshot_sha256(take_snapshot(locked["call"])) == snapshot_sha256(snapshot)
    assert snapshot["figures"]["proposals"] == 3 and snapshot["draft"] is False
    assert [c["weight"] for c in snapshot["criteria"]] == [60, 40]
    assert [row["reference"] for row in snapshot["laureates"]] == ["A-1", "A-2"]
    assert snapshot["tracks"][0]["granted"] == 250_000 and snapshot["tracks"][0]["remaining"] == 50_000


def test_snapshot_changes_with_the_state_but_not_with_the_audit_trail(locked):
    before = snapshot_sha256(take_snapshot(locked["call"]))
    AuditEvent.objects.create(action="other.thing", prev_hash="0" * 64, hash="1" * 64)
    assert snapshot_sha256(take_snapshot(locked["call"])) == before
    Score.objects.filter(review__proposal=locked["p"]["A-3"]).update(value=0)
    assert snapshot_sha256(take_snapshot(locked["call"])) != before


def test_conflicts_are_counted_without_naming_proposals(locked):
    from jury.models import Conflict

    Conflict.objects.create(juror=locked["chair"], proposal=locked["p"]["A-3"], source="declared", reason="x")
    snapshot = take_snapshot(locked["call"])
    assert snapshot["jury"]["conflicts_total"] == 1
    assert "A-3" not in canonical_json(snapshot["jury"])


# ------------------------------------------------------------------------------------------------ rendering


def test_same_snapshot_gives_byte_identical_pdf_even_after_a_json_round_trip(locked):
    snapshot = take_snapshot(locked["call"])
    first, pages = render(snapshot)
    stored = json.loads(json.dumps(snapshot, sort_keys=True))  # as the database gives it back
    second, pages_again = render(stored)
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()
    assert pages == pages_again > 5


def test_pdf_is_tagged_pdf_ua_with_language_title_and_snapshot_dates(locked):
    snapshot = take_snapshot(locked["call"])
    pdf, _pages = render(snapshot)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"]) is True
    assert root["/Lang"] == "fr"
    assert "/StructTreeRoot" in root
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert 'pdfuaid:part="1"' in xmp
    assert reader.metadata["/Title"] == "Rapport de sélection — Appel d'essai <b>IA</b>"
    assert reader.metadata["/CreationDate"].startswith("D:" + snapshot["as_of"][:10].replace("-", ""))


def test_report_shows_hash_audit_head_figures_and_typography(locked):
    snapshot = take_snapshot(locked["call"])
    sha = snapshot_sha256(snapshot)
    pdf, _pages = render_report(snapshot, sha256=sha, audit_head="a" * 64, version=3, is_draft=False)
    text = text_of(pdf)
    assert sha in text.replace(" ", "") and "a" * 64 in text.replace(" ", "")
    assert "3 projets reçus" in text
    assert "Impact 60 %" in text and "Données 40 %" in text
    assert "300 000 €" in text and "250 000 €" in text  # envelope and granted, with non-breaking spaces
    assert "Rapport version 3" in text
    for section in ("Sommaire", "Chiffres clés", "La méthode", "Le procès-verbal", "Signatures"):
        assert section in text


def test_table_of_contents_gives_page_numbers(locked):
    pdf, pages = render(take_snapshot(locked["call"]))
    toc = pypdf.PdfReader(io.BytesIO(pdf)).pages[1].extract_text()
    assert "Sommaire" in toc
    numbers = [int(line.rsplit(" ", 1)[-1]) for line in toc.splitlines() if line.rstrip()[-1:].isdigit()]
    assert numbers == sorted(numbers) and numbers[0] == 3 and numbers[-1] <= pages


def test_hostile_text_is_rendered_as_text(locked):
    snapshot = take_snapshot(locked["call"])
    html = report_html(report_context(snapshot, sha256="0" * 64, audit_head="", version=1, is_draft=False))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img src=file" not in html and "&lt;img src=file:///etc/passwd&gt;" in html
    assert "\u202e" not in html and "\u202c" not in html
    pdf, pages = render(snapshot)
    text = text_of(pdf)
    assert "<script>alert('x')</script> Détection" in text
    assert "<img src=file:///etc/passwd>" in text
    assert "A" * 400 in "".join(text.split())  # the huge word wraps inside the page
    assert "gnilbmerT" in text
    assert "root:x:0" not in text


def test_fetcher_serves_our_static_files_only():
    fetcher = StaticOnlyFetcher()
    css = fetcher.fetch(f"{BASE_URL}static/css/report.css")
    assert b"@page" in css.read() and css.content_type == "text/css"
    assert fetcher.fetch("data:text/plain,ok").read() == b"ok"
    for url in ("file:///etc/passwd", "http://example.com/x.css", "https://example.com/static/css/report.css",
                f"{BASE_URL}static/../../../../etc/passwd", f"{BASE_URL}static/%2e%2e/%2e%2e/etc/passwd",
                f"{BASE_URL}etc/passwd"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 6


def test_rendering_never_reads_a_local_file_nor_the_network():
    fetcher = StaticOnlyFetcher()
    html = ('<html lang="fr"><head><title>t</title><link rel="stylesheet" href="http://example.com/x.css"></head>'
            '<body><h1>t</h1><img src="file:///etc/passwd" alt="x"><img src="https://example.org/a.png" alt="y">'
            '</body></html>')
    pdf, pages = html_to_pdf(html, identifier=b"test", fetcher=fetcher)
    assert pages == 1 and pdf.startswith(b"%PDF")
    assert sorted(fetcher.refused) == ["file:///etc/passwd", "http://example.com/x.css",
                                       "https://example.org/a.png"]


def test_charts_are_deterministic_svg_without_script(locked):
    from jury.report.charts import all_charts

    snapshot = take_snapshot(locked["call"])
    first, second = all_charts(snapshot), all_charts(snapshot)
    assert [c.svg for c in first] == [c.svg for c in second]
    for chart in first:
        assert chart.svg.startswith("<svg") and "<script" not in chart.svg and "<!--" not in chart.svg
        assert chart.data_uri.startswith("data:image/svg+xml;base64,")


# ------------------------------------------------------------------------------------------------ services


def test_request_refused_until_decisions_are_locked(setup, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(services.ReportRefused) as refusal:
        services.request_report(call=setup["call"], by=setup["staff"])
    assert "ne sont pas encore arrêtées" in refusal.value.messages[0]
    assert SelectionReport.objects.count() == 0 and callbacks == []


def test_explicit_draft_is_watermarked(setup, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report, created = services.request_report(call=setup["call"], by=setup["staff"], draft=True)
    report.refresh_from_db()
    assert created and report.is_draft and report.status == ReportStatus.DONE
    text = text_of(stored(report))
    assert "Version de travail" in text and "VERSION DE TRAVAIL — NON DÉFINITIVE" in text


def test_request_freezes_snapshot_with_hash_head_version_and_audit(locked, django_capture_on_commit_callbacks):
    head = audit_head()
    with django_capture_on_commit_callbacks() as callbacks:
        report, created = services.request_report(call=locked["call"], by=locked["staff"])
    assert created and len(callbacks) == 1
    assert (report.version, report.status, report.stage, report.is_draft) == (1, "pending", "snapshot", False)
    assert report.sha256 == snapshot_sha256(report.snapshot) and report.audit_head == head
    assert report.requested_by == locked["staff"]
    event = AuditEvent.objects.get(action="report.requested")
    assert event.after["sha256"] == report.sha256 and event.actor == locked["staff"]


def test_asking_twice_for_the_same_state_gives_one_report_and_one_task(locked, django_capture_on_commit_callbacks):
    other_staff = UserFactory(is_staff=True)
    with django_capture_on_commit_callbacks() as callbacks:
        first, created = services.request_report(call=locked["call"], by=locked["staff"])
        again, created_again = services.request_report(call=locked["call"], by=other_staff)
    assert created and not created_again and again.pk == first.pk
    assert len(callbacks) == 1 and SelectionReport.objects.count() == 1


def test_a_changed_state_makes_a_new_version_and_old_ones_are_kept(locked, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first, _created = services.request_report(call=locked["call"], by=locked["staff"])
    Review.objects.filter(proposal=locked["p"]["A-3"]).delete()
    with django_capture_on_commit_callbacks(execute=True):
        second, created = services.request_report(call=locked["call"], by=locked["staff"])
    assert created and second.version == 2 and second.sha256 != first.sha256
    assert list(SelectionReport.objects.filter(call=locked["call"]).values_list("version", "status")) == [
        (2, "done"), (1, "done")]


def test_build_goes_through_the_stages_and_writes_the_file_last(locked, monkeypatch,
                                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        report, _created = services.request_report(call=locked["call"], by=locked["staff"])
    seen, original = [], services._set_stage

    def spying(report_id):
        notify = original(report_id)

        def record(stage):
            notify(stage)
            row = SelectionReport.objects.get(pk=report_id)
            seen.append((row.status, row.stage, bool(row.file), services.percent(row)))
        return record

    monkeypatch.setattr(services, "_set_stage", spying)
    assert services.percent(report) == 5
    report = services.build_report(report=report)
    assert seen == [("running", "charts", False, 30), ("running", "layout", False, 55),
                    ("running", "writing", False, 85)]
    assert report.status == ReportStatus.DONE and services.percent(report) == 100
    data = stored(report)
    assert hashlib.sha256(data).hexdigest() == report.pdf_sha256 and report.pages > 5 and report.finished_at


def test_a_redelivered_task_completes_a_running_report_and_reuses_a_done_one(locked,
                                                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        report, _created = services.request_report(call=locked["call"], by=locked["staff"])
    SelectionReport.objects.filter(pk=report.pk).update(status=ReportStatus.RUNNING, stage="layout")  # worker killed
    report = services.build_report(report=SelectionReport.objects.get(pk=report.pk))
    assert report.status == ReportStatus.DONE
    name, digest = report.file.name, report.pdf_sha256
    again = services.build_report(report=SelectionReport.objects.get(pk=report.pk))
    assert (again.file.name, again.pdf_sha256) == (name, digest)


def test_a_failed_render_is_marked_failed_and_offers_no_file(locked, monkeypatch,
                                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        report, _created = services.request_report(call=locked["call"], by=locked["staff"])

    def broken(*args, **kwargs):
        raise RuntimeError("plus de mémoire")

    monkeypatch.setattr(services, "render_report", broken)
    with pytest.raises(RuntimeError):
        services.build_report(report=report)
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED and report.error == "plus de mémoire" and not report.file


# ------------------------------------------------------------------------------------------------ pages


def test_staff_generates_follows_and_downloads(client, locked, django_capture_on_commit_callbacks):
    client.force_login(locked["staff"])
    first = client.get(reverse("report:page", args=[locked["call"].slug]))
    assert "Aucun rapport n'a encore été généré" in page(first)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("report:generate", args=[locked["call"].slug]))
    assert response["Location"] == reverse("report:page", args=[locked["call"].slug]) + "#rapport-1"
    content = page(client.get(response["Location"]))
    assert "L'instantané est figé (version 1)" in content
    report = SelectionReport.objects.get()
    assert report.sha256 in content and report.pdf_sha256 in content
    state = client.get(reverse("report:status", args=[report.pk])).json()
    assert state["status"] == "done" and state["percent"] == 100
    assert state["download"] == reverse("report:download", args=[report.pk])
    download = client.get(state["download"])
    assert download["Content-Type"] == "application/pdf"
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == report.pdf_sha256
    again = client.post(reverse("report:generate", args=[locked["call"].slug]), follow=True)
    assert "c'est ce rapport qui est proposé" in page(again) and SelectionReport.objects.count() == 1


def test_unlocked_call_is_refused_unless_a_draft_is_asked(client, setup):
    client.force_login(setup["staff"])
    response = client.post(reverse("report:generate", args=[setup["call"].slug]), follow=True)
    assert "ne sont pas encore arrêtées" in page(response)
    assert SelectionReport.objects.count() == 0


def test_only_done_reports_are_downloadable(client, locked, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        report, _created = services.request_report(call=locked["call"], by=locked["staff"])
    client.force_login(locked["staff"])
    for status in (ReportStatus.PENDING, ReportStatus.RUNNING, ReportStatus.FAILED):
        SelectionReport.objects.filter(pk=report.pk).update(status=status)
        assert client.get(reverse("report:download", args=[report.pk])).status_code == 404


@pytest.mark.parametrize("who", ["juror", "chair", "applicant"])
def test_report_pages_are_hidden_from_everyone_but_staff(client, locked, who,
                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report, _created = services.request_report(call=locked["call"], by=locked["staff"])
    user = {"juror": locked["member"].user, "chair": locked["chair"].user,
            "applicant": MembershipFactory(administration=locked["admin"]).user}[who]
    client.force_login(user)
    slug = locked["call"].slug
    for url in (reverse("report:page", args=[slug]), reverse("report:statistics", args=[slug]),
                reverse("report:status", args=[report.pk]), reverse("report:download", args=[report.pk])):
        assert client.get(url).status_code == 404
    assert client.post(reverse("report:generate", args=[slug])).status_code == 404


def test_anonymous_is_sent_to_login(client, locked):
    response = client.get(reverse("report:page", args=[locked["call"].slug]))
    assert response.status_code == 302 and "connexion" in response["Location"]


def test_statistics_page_shows_the_report_charts(client, locked):
    client.force_login(locked["staff"])
    content = page(client.get(reverse("report:statistics", args=[locked["call"].slug])))
    assert content.count('src="data:image/svg+xml;base64,') == 3
    assert "Répartition des scores par parcours" in content and "Utilisation des enveloppes" in content
    assert "250\u202f000\u00a0€" in content


def test_call_menu_links_to_the_report_and_statistics(client, locked):
    client.force_login(locked["staff"])
    content = client.get(reverse("staff:call", args=[locked["call"].slug])).content.decode()
    assert reverse("report:page", args=[locked["call"].slug]) in content
    assert reverse("report:statistics", args=[locked["call"].slug]) in content


# ------------------------------------------------------------------------------------------------ command


@pytest.mark.django_db(transaction=True)
def test_command_goes_through_the_task_and_writes_the_pdf(locked, tmp_path):
    target = tmp_path / "rapport.pdf"
    call_command("selection_report", locked["call"].slug, output=str(target))
    report = SelectionReport.objects.get()
    assert report.status == ReportStatus.DONE and report.requested_by is None
    assert hashlib.sha256(target.read_bytes()).hexdigest() == report.pdf_sha256
    call_command("selection_report", locked["call"].slug, output=str(tmp_path / "again.pdf"))
    assert SelectionReport.objects.count() == 1


def test_command_refuses_unlocked_decisions_and_unknown_calls(setup):
    with pytest.raises(CommandError, match="pas encore arrêtées"):
        call_command("selection_report", setup["call"].slug)
    with pytest.raises(CommandError, match="No call"):
        call_command("selection_report", "nope")


# ------------------------------------------------------------------------------------------------ evaluation sheet


@pytest.fixture
def announced(locked):
    call = locked["call"]
    review = Review.objects.get(proposal=locked["p"]["A-1"], juror=locked["member"])
    impact, data = locked["criteria"]
    Score.objects.filter(review=review, criterion=impact).update(comment="Un impact <b>très clair</b>.",
                                                                 comment_public=True)
    Score.objects.filter(review=review, criterion=data).update(comment="Note interne au jury.")
    call.status = CallStatus.ANNOUNCED
    call.save(update_fields=["status"])
    return locked


def test_applicant_downloads_the_evaluation_sheet_after_announcement(client, announced):
    owner = MembershipFactory(administration=announced["admin"]).user
    client.force_login(owner)
    response = client.get(reverse("sheets:sheet", args=[announced["p"]["A-1"].pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="fiche-evaluation-A-1.pdf"'
    text = text_of(response.content)
    assert "Fiche d'évaluation" in text and "Lauréat" in text
    assert "Impact 60 % 4,50 " in text and "Données 40 % 4,00 " in text
    assert "Un impact <b>très clair</b>." in text
    assert "Note interne au jury." not in text
    assert announced["member"].user.last_name not in text


def test_sheet_is_refused_before_the_announcement_and_hidden_from_outsiders(client, locked):
    owner = MembershipFactory(administration=locked["admin"]).user
    client.force_login(owner)
    url = reverse("sheets:sheet", args=[locked["p"]["A-1"].pk])
    response = client.get(url, follow=True)
    assert "disponible après l'annonce des résultats" in page(response)
    assert response.redirect_chain[-1][0] == reverse("applications:my_proposals")
    client.force_login(MembershipFactory().user)  # a member of another administration
    assert client.get(url).status_code == 404
    client.force_login(MembershipFactory(administration=locked["admin"], status="pending").user)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_my_proposals_links_the_sheet_once_announced(client, announced):
    owner = MembershipFactory(administration=announced["admin"]).user
    client.force_login(owner)
    content = client.get(reverse("applications:my_proposals")).content.decode()
    assert reverse("sheets:sheet", args=[announced["p"]["A-1"].pk]) in content


# ------------------------------------------------------------------------------------------------ scoring form


def test_juror_chooses_which_comments_are_published(setup):
    call = setup["call"]
    call.status = CallStatus.REVIEW
    call.save(update_fields=["status"])
    impact, data = setup["criteria"]
    review = ReviewFactory(proposal=setup["p"]["A-3"], juror=setup["chair"], status="draft")
    from jury.forms import ReviewForm

    form = ReviewForm(data={f"score_{impact.pk}": "4", f"comment_{impact.pk}": "Clair.", f"public_{impact.pk}": "on",
                            f"score_{data.pk}": "2", f"comment_{data.pk}": "Interne."},
                      criteria=[impact, data], scale_max=5)
    assert form.is_valid(), form.errors
    save_review(review=review, data=form.review_data(), by=setup["chair"].user)
    published = dict(Score.objects.filter(review=review).values_list("criterion_id", "comment_public"))
    assert published == {impact.pk: True, data.pk: False}
    assert [row[3].name for row in form.criterion_rows()] == [f"public_{impact.pk}", f"public_{data.pk}"]
