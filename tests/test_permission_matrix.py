"""The permission matrix: every URL of the portal, requested as each persona, with the answer it must give.

The list of URLs comes from the URL configuration itself (`get_resolver().url_patterns`, walked with
its namespaces): a named pattern without an entry in MATRIX fails `test_every_url_is_in_the_matrix`,
so a new view cannot ship unchecked. Only the Django admin (one test of its own below), the language
switch of `django.conf.urls.i18n` and static files are left out.

The world is built once for the module, inside a transaction rolled back at the end; each request
runs inside a savepoint rolled back after it, so an allowed POST (a submission, a decision…) never
changes what the next persona finds. A refused request must change nothing: every row of the
portal's tables is compared before and after it.

Personas: anonymous; owner and colleague (active members of the proposals' administration); pending (asked
to join that administration, not confirmed: may not even confirm themselves); outsider
(member of another administration); juror (seated on the call under review, charter accepted, and a
plain member of the deliberating call's jury); conflicted juror (seated on the call under review with
a review of its proposal, and an active member of the proposal's administration, hence an automatic
conflict: on the applicant pages they are a member like the colleague, on the jury pages the proposal
does not exist for them); juror of another call; chair of the deliberating call's jury; staff (not
superuser); admin (superuser).
"""

from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from ami.models import CallStatus
from applications.models import Administration, MembershipStatus, ProposalStatus, Submission
from applications.services.submission import build_snapshot, snapshot_sha256
from jury.models import (
    ConflictSource,
    ExportJob,
    ExportStatus,
    JuryRole,
    ReportStatus,
    ReviewStatus,
    SelectionReport,
)
from jury.services.invitations import make_token
from tests.ami.factories import CallFactory, UserFactory, ready_call
from tests.applications.factories import (
    MINIMAL_PDF,
    AdministrationFactory,
    AttachmentFactory,
    MembershipFactory,
    ProposalFactory,
    complete_draft,
)
from tests.conftest import close_response
from tests.jury.factories import (
    ConflictFactory,
    DecisionFactory,
    JuryInvitationFactory,
    JuryMemberFactory,
    ReviewFactory,
    scored_proposal,
)

PERSONAS = ("anonymous", "owner", "colleague", "pending", "outsider", "juror", "conflicted", "other_juror", "chair",
            "staff", "admin")
MEMBERS = ("owner", "colleague", "conflicted")  # active members of administration A, whose proposals these are

# Expected answers besides plain status codes.
LOGIN = "302 to the login page"
REDIRECT = "302 elsewhere"
ALLOWED = "allowed (200, 302 or 400, not to the login page)"  # a form POST by someone allowed to post it
REFUSALS = {LOGIN, 403, 404, 405}

EXCLUDED_NAMESPACES = {"admin"}
EXCLUDED_NAMES = {"set_language"}  # django.conf.urls.i18n


# The URL configuration


def walk(patterns, namespaces=()):
    """(namespaced name, route) of every named URL pattern under `patterns`, through every include()."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespaces + ((pattern.namespace,) if pattern.namespace else ())
            for name, route in walk(pattern.url_patterns, inner):
                yield name, str(pattern.pattern) + route
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield ":".join((*namespaces, pattern.name)), str(pattern.pattern)


def checked_patterns():
    return {name: route for name, route in walk(get_resolver().url_patterns)
            if name.split(":")[0] not in EXCLUDED_NAMESPACES and name not in EXCLUDED_NAMES}


# The matrix


def answers(default, **overrides):
    unknown = set(overrides) - set(PERSONAS)
    assert not unknown, unknown
    return {persona: overrides.get(persona, default) for persona in PERSONAS}


def _with(default, base, overrides):
    return answers(default, **{**base, **overrides})


def signed_in(ok=200, **overrides):
    """Any signed-in person; visitors are sent to the login page."""
    return _with(ok, {"anonymous": LOGIN}, overrides)


def staff_only(ok=200, **overrides):
    """Staff and admin; visitors to the login page; anyone else 404 (the page does not exist for them)."""
    return _with(404, {"anonymous": LOGIN, "staff": ok, "admin": ok}, overrides)


def members_only(ok=200, staff=403, **overrides):
    """Acting on a proposal: its administration's members; staff see it but may not act (403); others 404."""
    return _with(404, {"anonymous": LOGIN, **dict.fromkeys(MEMBERS, ok), "staff": staff, "admin": staff}, overrides)


def juror_only(ok=200, conflicted=None, **overrides):
    """A page of the call under review's jury: the seated juror; the conflicted juror when it names no proposal."""
    return _with(404, {"anonymous": LOGIN, "juror": ok, "conflicted": ok if conflicted is None else conflicted},
                 overrides)


def deliberating(ok=200, juror=404, **overrides):
    """The deliberation: its chair and staff; a plain juror of that call `juror`; anyone else 404."""
    return _with(404, {"anonymous": LOGIN, "chair": ok, "staff": ok, "admin": ok, "juror": juror}, overrides)


@dataclass
class Case:
    kwargs: object = None  # world -> URL kwargs
    expect: dict = field(default_factory=dict)
    method: str = "GET"
    data: object = None  # world -> POST data


def page(kwargs, expect):
    return [Case(kwargs, expect)]


def form(kwargs, expect, data=None, post_all=ALLOWED, **post_overrides):
    """A page with a form: GET as `expect`; POST refused to the same people, `post_all` for the others."""
    post = {persona: (answer if answer in REFUSALS else post_all) for persona, answer in expect.items()}
    post.update(post_overrides)
    return [Case(kwargs, expect), Case(kwargs, post, "POST", data)]


def action(kwargs, expect, data=None):
    """A POST-only endpoint."""
    return [Case(kwargs, expect, "POST", data)]


def slug(call_name):
    return lambda w: {"slug": getattr(w, call_name).slug}


def draft_pk(w):
    return {"pk": w.draft.pk}


def reviewed_pk(w):
    return {"pk": w.reviewed.pk}


def review_call_proposal(w):
    return {"slug": w.call_review.slug, "pk": w.reviewed.pk}


def delib_proposal(w):
    return {"slug": w.call_delib.slug, "pk": w.delib_prop.pk}


def invalid_uid_token(w):
    return {"uidb64": urlsafe_base64_encode(force_bytes(w.owner.pk)), "token": "bad-token"}


DECISION = {"outcome": "laureate", "reason": "Retenu par le jury.", "granted_amount_eur": "100000"}

MATRIX = {
    # Public pages and open data
    "home": page(None, answers(200)),
    "call_detail": page(slug("call_open"), answers(200)) + page(slug("call_draft"), staff_only(anonymous=404)),
    "laureates": page(slug("call_announced"), answers(200)) + page(slug("call_review"), answers(404)),
    "laureates_csv": page(slug("call_announced"), answers(200)) + page(slug("call_review"), answers(404)),
    "laureates_json": page(slug("call_announced"), answers(200)) + page(slug("call_review"), answers(404)),
    "healthz": page(None, answers(200)),
    # Accounts
    "signup": page(None, answers(REDIRECT, anonymous=200)),
    "verify_email": page(invalid_uid_token, answers(400)),
    "login": page(None, answers(REDIRECT, anonymous=200)),
    "logout": page(None, answers(405)),
    "password_reset": page(None, answers(200)),
    "password_reset_done": page(None, answers(200)),
    "password_reset_confirm": page(invalid_uid_token, answers(200)),
    "password_reset_complete": page(None, answers(200)),
    "otp_verify": page(None, signed_in(REDIRECT)),  # OTP_REQUIRED is off under the test settings: nothing to verify
    "otp_setup": form(None, signed_in(REDIRECT), post_all=REDIRECT),
    "otp_recovery": page(None, signed_in(REDIRECT)),
    "otp_recovery_codes": page(None, signed_in(REDIRECT)),
    # ProConnect is off unless configured (PROCONNECT_CLIENT_ID): its pages do not exist; logging out is a POST.
    "oidc_authentication_init": page(None, answers(404)),
    "oidc_authentication_callback": page(None, answers(404)),
    "oidc_logout": page(None, answers(405)),
    "my_data": page(None, signed_in()),
    "privacy": page(None, answers(200)),
    "accessibility": page(None, answers(200)),
    # Administrations and their members
    "applications:my_administration": page(None, signed_in()),
    "applications:join_administration": action(None, signed_in(REDIRECT), lambda w: {"administration": w.b.pk}),
    "applications:propose_administration": form(None, signed_in()),
    "applications:members": page(None, signed_in(200, pending=404, juror=404, other_juror=404, chair=404)),
    "applications:confirm_member": action(
        lambda w: {"pk": w.pending_membership.pk},
        answers(404, anonymous=LOGIN, **dict.fromkeys(MEMBERS, REDIRECT), staff=REDIRECT, admin=REDIRECT)),
    # Proposals of the applicants
    "applications:my_proposals": page(None, signed_in()),
    "applications:new_draft": page(lambda w: {"call_slug": w.call_open.slug},
                                   signed_in(REDIRECT, outsider=200, **dict.fromkeys(MEMBERS, 200)))
    + page(lambda w: {"call_slug": w.call_draft.slug}, staff_only(anonymous=LOGIN)),
    "applications:edit_draft": form(draft_pk, members_only(), lambda w: {"version": w.draft.version}),
    "applications:edit_draft_step": form(lambda w: {"pk": w.draft.pk, "step": 2}, members_only(),
                                         lambda w: {"version": w.draft.version}),
    "applications:autosave_draft": action(
        draft_pk, answers(404, anonymous=403, **dict.fromkeys(MEMBERS, ALLOWED)),
        lambda w: {"version": w.draft.version, "title": "Titre changé"}),
    "applications:attachments": form(draft_pk, members_only()),
    "applications:replace_attachment": form(lambda w: {"pk": w.draft.pk, "att_pk": w.draft_att.pk}, members_only()),
    "applications:remove_attachment": action(lambda w: {"pk": w.draft.pk, "att_pk": w.draft_att.pk},
                                             members_only(REDIRECT)),
    "applications:download_attachment": page(lambda w: {"att_pk": w.rev_att.pk},
                                             members_only(staff=200, anonymous=404)),
    "applications:review_proposal": page(draft_pk, members_only()),
    "applications:submit_proposal": action(draft_pk, members_only(REDIRECT), lambda w: {"version": w.draft.version}),
    "applications:reopen_proposal": action(reviewed_pk, members_only(REDIRECT)),
    "applications:withdraw_proposal": action(reviewed_pk, members_only(REDIRECT)),
    "applications:receipt": page(lambda w: {"pk": w.reviewed.pk, "number": 1}, members_only(staff=200, anonymous=404)),
    # Staff: intake and administrations
    "applications:intake": page(None, staff_only()),
    "applications:intake_detail": form(reviewed_pk, staff_only()),
    "applications:pending_administrations": page(None, staff_only()),
    "applications:approve_administration": action(lambda w: {"pk": w.pending_admin.pk}, staff_only(REDIRECT)),
    "applications:reject_administration": action(lambda w: {"pk": w.pending_admin.pk}, staff_only(ALLOWED),
                                                  lambda w: {"reason": "Doublon d'une administration existante."}),
    "applications:merge_administration": action(lambda w: {"pk": w.pending_admin.pk}, staff_only(ALLOWED),
                                                lambda w: {"into": w.b.pk}),
    # Staff: calls
    "staff:home": page(None, staff_only()),
    "staff:calls": page(None, staff_only()),
    "staff:call_create": form(None, staff_only()),
    "staff:call": page(slug("call_review"), staff_only()),
    "staff:call_edit": form(slug("call_draft"), staff_only()),
    "staff:call_clone": form(slug("call_review"), staff_only()),
    "staff:tracks": form(slug("call_draft"), staff_only()),
    "staff:criteria": form(slug("call_draft"), staff_only()),
    "staff:questions": form(slug("call_draft"), staff_only()),
    "staff:call_transition": action(slug("call_open"), staff_only(REDIRECT), lambda w: {"to_status": "closed"}),
    # Staff: the jury
    "jury_staff:jury": form(slug("call_review"), staff_only(), lambda w: {"email": "nouvel.expert@exemple.fr",
                                                                         "role": "member"}),
    "jury_staff:resend_invitation": action(lambda w: {"slug": w.call_review.slug, "pk": w.invitation.pk},
                                           staff_only(REDIRECT)),
    "jury_staff:revoke_invitation": action(lambda w: {"slug": w.call_review.slug, "pk": w.invitation.pk},
                                           staff_only(REDIRECT)),
    "jury_staff:member_edit": form(lambda w: {"slug": w.call_review.slug, "pk": w.juror_seat.pk}, staff_only()),
    "jury_staff:name_chair": action(lambda w: {"slug": w.call_review.slug, "pk": w.juror_seat.pk},
                                    staff_only(REDIRECT)),
    "jury_staff:remove_chair": action(lambda w: {"slug": w.call_review.slug, "pk": w.juror_seat.pk},
                                      staff_only(REDIRECT)),
    "jury_staff:conflicts": form(slug("call_review"), staff_only()),
    "jury_staff:remove_conflict": action(lambda w: {"slug": w.call_review.slug, "pk": w.declared_conflict.pk},
                                         staff_only(REDIRECT)),
    "jury_staff:expertise": page(slug("call_review"), staff_only()),
    "jury_staff:proposal_expertise": action(review_call_proposal, staff_only(REDIRECT), lambda w: {"tags": "santé"}),
    "jury_staff:assignment": page(slug("call_review"), staff_only()),
    "jury_staff:run_assignment": action(slug("call_review"), staff_only(REDIRECT)),
    "jury_staff:move_assignment": action(lambda w: {"slug": w.call_review.slug, "pk": w.juror_review.pk},
                                         staff_only(REDIRECT), lambda w: {"to_juror": w.conflicted_seat.pk}),
    "jury_staff:progress": page(slug("call_review"), staff_only()),
    # The deliberation (chair and staff) and the audit trail (staff)
    "deliberation:board": page(slug("call_delib"), deliberating()),
    "deliberation:settings": action(slug("call_delib"), deliberating(REDIRECT, juror=403),
                                    lambda w: {"rank_by": "raw"}),
    "deliberation:selection": page(slug("call_delib"), deliberating()),
    "deliberation:apply_optimal": action(slug("call_delib"), deliberating(REDIRECT, juror=403)),
    "deliberation:proposal": page(delib_proposal, deliberating()),
    "deliberation:decide": action(delib_proposal, deliberating(ALLOWED, juror=403),
                                  lambda w: {**DECISION, "track": w.delib_track.pk}),
    "deliberation:lock": form(slug("call_delib"), deliberating(), juror=403),
    "deliberation:minutes": form(slug("call_delib"), deliberating(), juror=403),
    "deliberation:minutes_print": page(slug("call_delib"), deliberating()),
    "deliberation:journal": page(None, staff_only()),
    # Exports (staff; a job is read by the one who asked for it)
    "exports:page": page(slug("call_review"), staff_only()),
    "exports:ask": action(slug("call_review"), staff_only(REDIRECT), lambda w: {"dataset": "proposals",
                                                                                 "format": "csv"}),
    "exports:records": page(slug("call_announced"), staff_only()),
    "exports:status": page(lambda w: {"pk": w.export.pk}, staff_only(admin=404)),
    "exports:download": page(lambda w: {"pk": w.export.pk}, staff_only(admin=404)),
    # The announcement (staff)
    "announce:page": page(slug("call_delib"), staff_only()),
    "announce:save_template": action(lambda w: {"slug": w.call_delib.slug, "outcome": "laureate"},
                                     staff_only(REDIRECT)),
    "announce:announce": action(slug("call_delib"), staff_only(REDIRECT)),
    "announce:outbox": page(slug("call_delib"), staff_only()),
    "announce:outbox_status": page(slug("call_delib"), staff_only()),
    "announce:retry": action(slug("call_delib"), staff_only(REDIRECT)),
    # The selection report and statistics (staff), the applicant's evaluation sheet (once announced)
    "report:page": page(slug("call_delib"), staff_only()),
    "report:generate": action(slug("call_delib"), staff_only(REDIRECT), lambda w: {"draft": "1"}),
    "report:statistics": page(slug("call_delib"), staff_only()),
    "report:status": page(lambda w: {"pk": w.report.pk}, staff_only()),
    "report:download": page(lambda w: {"pk": w.report.pk}, staff_only()),
    "sheets:sheet": page(reviewed_pk, members_only(REDIRECT, staff=REDIRECT)),  # not announced: sent back
    # The jury's own pages (a seat on the call's jury; staff have none)
    "jury:home": page(None, signed_in()),
    "jury:accept_invitation": page(lambda w: {"token": w.invitation_token}, answers(403, anonymous=200)),
    "jury:dashboard": page(slug("call_review"), juror_only()),
    "jury:charter": form(slug("call_review"), juror_only()),
    "jury:proposal": page(review_call_proposal, juror_only(conflicted=404)),
    "jury:review": form(review_call_proposal, juror_only(conflicted=404)),
    "jury:declare_conflict": form(review_call_proposal, juror_only(conflicted=404)),
    "jury:attachment": page(lambda w: {"slug": w.call_review.slug, "att_pk": w.rev_att.pk},
                            juror_only(conflicted=404)),
}


# The world


def accepted_seat(**kwargs):
    return JuryMemberFactory(charter_accepted_at=timezone.now(), **kwargs)


def submit(proposal, by):
    at = timezone.now()
    snapshot = build_snapshot(proposal=proposal, number=1, at=at, by=by)
    submission = Submission.objects.create(proposal=proposal, number=1, proposal_version=proposal.version,
                                           snapshot=snapshot, sha256=snapshot_sha256(snapshot), submitted_at=at,
                                           submitted_by=by)
    submission.receipt_pdf.save("recepisse.pdf", ContentFile(MINIMAL_PDF))
    return submission


def build_world():
    w = SimpleNamespace()
    w.a = AdministrationFactory(name="Direction générale de la santé", acronym="DGS")
    w.b = AdministrationFactory(name="Direction des affaires maritimes", acronym="DAM")
    w.owner = MembershipFactory(administration=w.a, user__email="porteur@sante.gouv.fr").user
    w.colleague = MembershipFactory(administration=w.a, user__email="collegue@sante.gouv.fr").user
    w.outsider = MembershipFactory(administration=w.b, user__email="agent@mer.gouv.fr").user
    w.conflicted = MembershipFactory(administration=w.a, user__email="jure.en.conflit@sante.gouv.fr").user
    w.juror = UserFactory(email="jure@exemple.fr")
    w.other_juror = UserFactory(email="jure.autre.appel@exemple.fr")
    w.chair = UserFactory(email="president@exemple.fr")
    w.staff = UserFactory(email="programme@numerique.gouv.fr", is_staff=True)
    w.admin = UserFactory(email="admin@numerique.gouv.fr", is_staff=True, is_superuser=True)
    w.anonymous = None
    w.pending_membership = MembershipFactory(administration=w.a, status=MembershipStatus.PENDING,
                                             user__email="nouvel.agent@sante.gouv.fr")
    w.pending = w.pending_membership.user  # asked to join A, not confirmed yet: sees nothing of A
    w.pending_admin = AdministrationFactory(name="Office proposé", approved=False)
    MembershipFactory(administration=w.pending_admin, status=MembershipStatus.PENDING)

    w.call_draft = ready_call(slug="appel-en-preparation")
    w.call_open = ready_call(slug="appel-ouvert", status=CallStatus.OPEN)
    w.draft = complete_draft(call=w.call_open, administration=w.a, created_by=w.owner)
    w.draft_att = w.draft.attachments.get()

    w.call_review = ready_call(slug="appel-en-evaluation", status=CallStatus.REVIEW)
    w.reviewed = ProposalFactory(call=w.call_review, administration=w.a, status=ProposalStatus.ELIGIBLE,
                                 reference="EVAL-0001", created_by=w.owner, requested_track=w.call_review.tracks.get())
    w.rev_att = AttachmentFactory(proposal=w.reviewed)
    submit(w.reviewed, w.owner)
    w.reviewed_b = ProposalFactory(call=w.call_review, administration=w.b, status=ProposalStatus.ELIGIBLE,
                                   reference="EVAL-0002")
    AttachmentFactory(proposal=w.reviewed_b)
    submit(w.reviewed_b, w.outsider)
    w.juror_seat = accepted_seat(call=w.call_review, user=w.juror)
    w.conflicted_seat = accepted_seat(call=w.call_review, user=w.conflicted)
    w.juror_review = ReviewFactory(proposal=w.reviewed, juror=w.juror_seat, status=ReviewStatus.ASSIGNED)
    # Assigned before the conflict was known: the automatic conflict (membership of A) must still hide it.
    ReviewFactory(proposal=w.reviewed, juror=w.conflicted_seat, status=ReviewStatus.ASSIGNED)
    ReviewFactory(proposal=w.reviewed_b, juror=w.juror_seat, status=ReviewStatus.ASSIGNED)
    w.declared_conflict = ConflictFactory(juror=w.juror_seat, proposal=w.reviewed_b, source=ConflictSource.DECLARED)
    w.invitation = JuryInvitationFactory(call=w.call_review, email="invite@exemple.fr", invited_by=w.staff)
    w.invitation_token = make_token(w.invitation)
    w.export = ExportJob.objects.create(call=w.call_review, dataset="proposals", format="csv", requested_by=w.staff,
                                        status=ExportStatus.DONE, file=ContentFile(b"reference\n", name="export.csv"))

    w.call_delib = ready_call(slug="appel-en-deliberation", status=CallStatus.DELIBERATION)
    w.delib_track = w.call_delib.tracks.get()
    delib_juror_seat = accepted_seat(call=w.call_delib, user=w.juror)
    accepted_seat(call=w.call_delib, user=w.chair, role=JuryRole.CHAIR)
    w.delib_prop = scored_proposal(call=w.call_delib, track=w.delib_track, marks=[(delib_juror_seat, [4, 3])],
                                   reference="DELIB-0001", administration=w.a)
    submit(w.delib_prop, w.owner)

    w.report = SelectionReport.objects.create(call=w.call_delib, version=1, status=ReportStatus.DONE,
                                              requested_by=w.staff, file=ContentFile(MINIMAL_PDF, name="rapport.pdf"))

    w.call_announced = ready_call(slug="appel-annonce", status=CallStatus.ANNOUNCED)
    laureate = ProposalFactory(call=w.call_announced, administration=w.b, status=ProposalStatus.LAUREATE,
                               reference="ANN-0001", requested_track=w.call_announced.tracks.get())
    DecisionFactory(proposal=laureate, track=w.call_announced.tracks.get())

    w.call_other = CallFactory(slug="autre-appel", status=CallStatus.REVIEW)
    other_seat = accepted_seat(call=w.call_other, user=w.other_juror)
    ReviewFactory(proposal=ProposalFactory(call=w.call_other, administration=w.b, status=ProposalStatus.ELIGIBLE),
                  juror=other_seat, status=ReviewStatus.ASSIGNED)
    return w


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once, in a transaction rolled back after the module's last test: nothing leaks to other modules."""
    with django_db_blocker.unblock():
        with transaction.atomic():
            world = build_world()
            world.rows = portal_rows()
            yield world
            transaction.set_rollback(True)


# Requests


def portal_rows():
    """Every row of the portal's own tables (but the time of each user's last login, which signing the personas
    in changes): a refused request must leave them exactly as they were."""
    rows = {model._meta.label: list(model.objects.order_by("pk").values())
            for label in ("ami", "applications", "jury") for model in apps.get_app_config(label).get_models()}
    for user in rows["ami.User"]:
        user.pop("last_login")
    return rows


def client_for(world, persona):
    client = Client(raise_request_exception=True)
    user = getattr(world, persona)
    if user is not None:
        client.force_login(user)
    return client


def verdict(response, expected):
    """'' when `response` is the expected answer, else what it was."""
    status = response.status_code
    location = response.get("Location", "")
    login = status == 302 and location.startswith(resolve_url(settings.LOGIN_URL))
    if expected == LOGIN:
        ok = login
    elif expected == REDIRECT:
        ok = status == 302 and not login
    elif expected == ALLOWED:
        ok = status in (200, 302, 400) and not login
    else:
        ok = status == expected
    return "" if ok else f"{status} {location}".strip()


def request_as(world, persona, case, url):
    """Sends the request inside a savepoint rolled back afterwards; returns the mismatch, or ''."""
    client = client_for(world, persona)
    expected = case.expect[persona]
    data = case.data(world) if case.data else {}
    with transaction.atomic():
        response = client.post(url, data) if case.method == "POST" else client.get(url)
        close_response(response)  # a file download holds its file open until closed
        problem = verdict(response, expected)
        # Every request is rolled back, so the rows before any request are the world as built.
        if not problem and expected in REFUSALS and portal_rows() != world.rows:
            problem = "refused, but rows changed"
        transaction.set_rollback(True)
    return f"{case.method} {url} as {persona}: expected {expected}, got {problem}" if problem else ""


# The tests


def test_every_url_is_in_the_matrix():
    patterns = checked_patterns()
    missing = sorted(set(patterns) - set(MATRIX))
    assert not missing, "URLs without an entry in the permission matrix (add one to MATRIX):\n" + "\n".join(
        f"  {name}  /{patterns[name]}" for name in missing)
    assert not sorted(set(MATRIX) - set(patterns)), "MATRIX names URLs that no longer exist"


def test_every_entry_answers_for_every_persona():
    incomplete = [name for name, cases in MATRIX.items() for case in cases if set(case.expect) != set(PERSONAS)]
    assert not incomplete


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_url_answers_each_persona_as_the_matrix_says(world, name):
    problems = []
    for case in MATRIX[name]:
        url = reverse(name, kwargs=case.kwargs(world) if case.kwargs else None)
        problems += [request_as(world, persona, case, url) for persona in PERSONAS]
    problems = [problem for problem in problems if problem]
    assert not problems, "\n".join(problems)


JURY_URLS_NAMING_A_PROPOSAL = {
    "jury:proposal": lambda w, p: {"slug": w.call_review.slug, "pk": p.pk},
    "jury:review": lambda w, p: {"slug": w.call_review.slug, "pk": p.pk},
    "jury:declare_conflict": lambda w, p: {"slug": w.call_review.slug, "pk": p.pk},
    "jury:attachment": lambda w, p: {"slug": w.call_review.slug, "att_pk": p.attachments.get().pk},
}


@pytest.mark.django_db
@pytest.mark.parametrize(("persona", "proposal"), [("conflicted", "reviewed"), ("juror", "reviewed_b")],
                         ids=["automatic-conflict", "declared-conflict"])
def test_a_conflicted_juror_finds_the_proposal_nowhere(world, persona, proposal):
    """404 on every jury URL naming the proposal, its review or its attachment, in GET and POST, with a review
    row assigned; and the proposal is absent from the juror's pages."""
    proposal = getattr(world, proposal)
    client = client_for(world, persona)
    for name, kwargs in JURY_URLS_NAMING_A_PROPOSAL.items():
        url = reverse(name, kwargs=kwargs(world, proposal))
        with transaction.atomic():
            before = portal_rows()
            assert client.get(url).status_code == 404, url
            assert client.post(url, {"reason": "Je connais le porteur.", "submit": "1"}).status_code == 404, url
            assert portal_rows() == before
            transaction.set_rollback(True)
    for url in (reverse("jury:home"), reverse("jury:dashboard", args=[world.call_review.slug])):
        content = client.get(url).content.decode()
        assert proposal.reference not in content and proposal.title not in content


@pytest.mark.django_db
def test_a_chair_in_conflict_neither_opens_nor_decides_the_proposal(world):
    """The chair deliberates on the others; staff decide on a proposal the chair is in conflict with."""
    client = client_for(world, "chair")
    kwargs = {"slug": world.call_delib.slug, "pk": world.delib_prop.pk}
    assert client.get(reverse("deliberation:proposal", kwargs=kwargs)).status_code == 200  # no conflict yet
    MembershipFactory(user=world.chair, administration=world.a)  # the chair joins the proposal's administration
    assert client.get(reverse("deliberation:proposal", kwargs=kwargs)).status_code == 404
    before = portal_rows()
    response = client.post(reverse("deliberation:decide", kwargs=kwargs), {**DECISION, "track": world.delib_track.pk})
    assert response.status_code == 404 and portal_rows() == before
    assert client_for(world, "staff").get(reverse("deliberation:proposal", kwargs=kwargs)).status_code == 200


def admin_changelists():
    from django.contrib import admin

    return [reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            for model in admin.site._registry]


@pytest.mark.django_db
def test_django_admin_is_for_staff_and_shows_staff_only_what_their_permissions_allow(world):
    login = reverse("admin:login")
    changelists = admin_changelists()
    assert changelists
    for persona in ("anonymous", "owner", "juror", "chair"):
        client = client_for(world, persona)
        for url in (reverse("admin:index"), *changelists):
            response = client.get(url)
            assert response.status_code == 302 and response["Location"].startswith(login), (persona, url)
    staff = client_for(world, "staff")  # staff without model permissions: the index, and nothing in it
    index = staff.get(reverse("admin:index"))
    assert index.status_code == 200
    assert not any(url in index.content.decode() for url in changelists)
    assert {url: staff.get(url).status_code for url in changelists} == dict.fromkeys(changelists, 403)
    admin_client = client_for(world, "admin")
    assert {url: admin_client.get(url).status_code for url in changelists} == dict.fromkeys(changelists, 200)
    assert Administration.objects.filter(approved=False).exists()  # the world is there: the pages list real rows
