"""Faults (issue 8): the portal under gunicorn, on a PostgreSQL cluster and a Redis of the test's own, while
Redis goes down and comes back, and while the database restarts under a stream of draft saves.

The machine's shared servers are never stopped (tests/servers.py starts and stops the test's own).
"""

import random
import string
import threading
import time
import uuid

import pytest
import requests

from tests import servers
from tests.conftest import start_worker, stop_worker
from tests.servers import LivePortal, portal_environment, run_django, wait_until

pytestmark = pytest.mark.faults

throwaway_postgres = servers.throwaway_postgres  # the fixtures, for this module
throwaway_redis = servers.throwaway_redis

# Owners, each in an administration of their own with a complete draft (a PDF attached) to an open call,
# and a signed-in session each. Prints their session cookies, drafts and versions as JSON.
SEED_OWNERS = """
from django.conf import settings
from django.test import Client
from ami.models import CallStatus
from tests.ami.factories import CallFactory, UserFactory
from tests.applications.factories import AdministrationFactory, MembershipFactory, complete_draft

call = CallFactory(status=CallStatus.OPEN, slug="appel-resilient", title="Appel résilient aux pannes")
owners = []
for index in range(COUNT):
    user = UserFactory(email=f"porteur{index}@example.gouv.fr")
    administration = AdministrationFactory()
    MembershipFactory(user=user, administration=administration)
    draft = complete_draft(call=call, administration=administration, created_by=user)
    client = Client()
    client.force_login(user, backend="ami.auth_memo.ModelBackend")
    owners.append({"session": client.cookies[settings.SESSION_COOKIE_NAME].value, "draft": draft.pk,
                   "version": draft.version})
print(json.dumps({"call": call.slug, "title": call.title, "session_cookie": settings.SESSION_COOKIE_NAME,
                  "csrf_cookie": settings.CSRF_COOKIE_NAME, "owners": owners}))
"""


def seed_owners(env, count):
    return run_django(SEED_OWNERS.replace("COUNT", str(count)), env)


def owner_session(seed, owner):
    """A requests session signed in as `owner`, with a CSRF cookie and its header (as the pages' JS sends)."""
    session = requests.Session()
    token = "".join(random.choices(string.ascii_letters + string.digits, k=32))
    session.cookies.set(seed["session_cookie"], owner["session"])
    session.cookies.set(seed["csrf_cookie"], token)
    session.headers.update({"X-CSRFToken": token})
    return session


def autosave(portal, session, draft, version, timeout=10, **fields):
    return session.post(f"{portal.url}/mes-projets/{draft}/autosave/", data={**fields, "version": version},
                        timeout=timeout, headers={"Accept": "application/json", "X-Requested-With": "XMLHttpRequest"})


@pytest.fixture
def portal_factory(tmp_path):
    started = []

    def start(env, workers=2):
        portal = LivePortal(env, tmp_path / f"gunicorn-{len(started)}.log", workers=workers)
        started.append(portal)
        portal.start()
        return portal

    yield start
    for portal in started:
        portal.stop()


# Redis down


def test_with_redis_down_the_portal_reads_saves_and_submits_then_catches_up_when_redis_returns(
        throwaway_postgres, throwaway_redis, portal_factory, tmp_path):
    media = tmp_path / "media"
    env = portal_environment(database_url=throwaway_postgres.migrated_database("faults_redis"), media_root=media,
                             redis_url=throwaway_redis.url)
    seed = seed_owners(env, 1)
    owner = seed["owners"][0]
    portal = portal_factory(env, workers=1)  # one process: its count of cache errors is the one /healthz shows
    anonymous, member = requests.Session(), owner_session(seed, owner)
    health = anonymous.get(f"{portal.url}/healthz", timeout=10).json()
    assert (health["status"], health["cache"]["ok"], health["broker_ok"]) == ("ok", True, True)

    throwaway_redis.stop()

    for path in ("/", f"/appels/{seed['call']}/"):  # public pages, cached in Redis in normal times
        response = anonymous.get(f"{portal.url}{path}", timeout=10)
        assert response.status_code == 200, path
        assert seed["title"] in response.text
    response = member.get(f"{portal.url}/mes-projets/", timeout=10)
    assert response.status_code == 200
    assert "Tri des signalements sanitaires" in response.text

    saved = autosave(portal, member, owner["draft"], owner["version"], title="Tri des signalements, Redis en panne",
                     summary="Enregistré pendant la panne de Redis.")
    assert saved.status_code == 200, saved.text
    version = saved.json()["version"]
    assert version == owner["version"] + 1

    started = time.monotonic()
    submitted = member.post(f"{portal.url}/mes-projets/{owner['draft']}/deposer/", data={"version": version},
                            timeout=30)
    assert time.monotonic() - started < 10  # the dead broker is given up quickly, not after twenty retries
    assert submitted.status_code == 200, submitted.text[-2000:]
    assert submitted.url.endswith(f"/mes-projets/{owner['draft']}/relire/")
    assert "Votre projet est déposé sous la référence" in submitted.text

    rows = throwaway_postgres.query(
        "SELECT p.status, p.title, s.number, s.receipt_pdf FROM applications_proposal p "
        "JOIN applications_submission s ON s.proposal_id = p.id WHERE p.id = %s", [owner["draft"]],
        database="faults_redis")
    assert rows == [("submitted", "Tri des signalements, Redis en panne", 1, "")]  # committed, receipt pending

    health = anonymous.get(f"{portal.url}/healthz", timeout=10)
    payload = health.json()
    assert health.status_code == 200  # the database is up: the portal is up, degraded
    assert payload["status"] == "degraded"
    assert payload["database"]["ok"] is True
    assert payload["cache"]["ok"] is False
    assert payload["cache"]["backend"] == "ConnectionError"
    assert payload["cache"]["errors_ignored"] >= 1  # the pages above were served from the process's memory
    assert (payload["broker_ok"], payload["workers_ok"]) == (False, False)

    throwaway_redis.start()
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    worker_env = {**env, "CELERY_DEFAULT_QUEUE": queue}
    worker, _name = start_worker(queue, worker_env)
    try:
        # What beat does every ten minutes, sent through the broker that is back.
        run_django("from applications.tasks import render_missing_receipts\n"
                   "render_missing_receipts.delay()\nprint(json.dumps('queued'))", worker_env)

        def receipt_sent():
            return throwaway_postgres.query(
                "SELECT s.receipt_pdf, e.status FROM applications_submission s JOIN ami_outboundemail e "
                "ON e.key = 'receipt:' || s.id || ':' || %s WHERE s.proposal_id = %s",
                [_user_id(throwaway_postgres, "porteur0@example.gouv.fr"), owner["draft"]], database="faults_redis")

        wait_until(lambda: [status for _pdf, status in receipt_sent()] == ["sent"], 90,
                   "the receipt was not rendered and mailed once Redis came back (see var/worker-faults-*.log)")
    finally:
        stop_worker(worker)
    (pdf, _status), = receipt_sent()
    assert (media / pdf).read_bytes().startswith(b"%PDF")

    wait_until(lambda: anonymous.get(f"{portal.url}/healthz", timeout=10).json()["cache"]["ok"], 10,
               "/healthz did not see Redis back")
    payload = anonymous.get(f"{portal.url}/healthz", timeout=10).json()
    assert (payload["status"], payload["broker_ok"]) == ("ok", True)


def _user_id(cluster, email):
    return cluster.query("SELECT id FROM ami_user WHERE email = %s", [email], database="faults_redis")[0][0]


# The database restarting


FILLER = "Texte du brouillon. "  # repeated: kilobytes per field, so that a half-written row would show


class DraftWriter(threading.Thread):
    """An owner saving their draft in a loop, as the autosave does, keeping what the portal acknowledged."""

    def __init__(self, portal, seed, owner, cluster, database, index, stop):
        super().__init__(daemon=True)
        self.portal, self.owner, self.cluster, self.database = portal, owner, cluster, database
        self.session, self.index, self.stop = owner_session(seed, owner), index, stop
        self.version, self.sequence = owner["version"], 0
        self.acknowledged = None  # the sequence number of the last save answered 200
        self.unsure = set()  # saves without a clear answer since then (503 or a lost connection)
        self.statuses, self.unavailable_bodies, self.acknowledged_at, self.failure = [], [], [], ""

    def texts(self, sequence):
        """The three fields of save number `sequence`, each naming it."""
        return {"title": f"Brouillon {self.index}-{sequence}",
                "summary": f"Résumé {sequence} du porteur {self.index}. {(FILLER * 80).strip()}",
                "problem": f"Problème {sequence} du porteur {self.index}. {(FILLER * 250).strip()}"}

    def run(self):
        while not self.stop.is_set():
            self.sequence += 1
            try:
                response = autosave(self.portal, self.session, self.owner["draft"], self.version,
                                    **self.texts(self.sequence))
            except requests.RequestException:
                self.statuses.append("connection")
                self.unsure.add(self.sequence)
                time.sleep(0.05)
                continue
            self.statuses.append(response.status_code)
            if response.status_code == 200:
                self.version, self.acknowledged, self.unsure = response.json()["version"], self.sequence, set()
                self.acknowledged_at.append(time.monotonic())
            elif response.status_code == 503:
                self.unavailable_bodies.append(response.json())
                self.unsure.add(self.sequence)
                time.sleep(0.05)
            elif response.status_code == 409:  # an unsure save was committed after all: reload, as the page says
                self.version = self.cluster.query("SELECT version FROM applications_proposal WHERE id = %s",
                                                  [self.owner["draft"]], database=self.database)[0][0]
            else:
                self.failure = f"{response.status_code}: {response.text[:3000]}"
                return  # fails the test below


def test_a_database_restart_during_draft_saves_gives_503_and_loses_or_corrupts_nothing(
        throwaway_postgres, portal_factory, tmp_path):
    database = "faults_restart"
    env = portal_environment(database_url=throwaway_postgres.migrated_database(database), media_root=tmp_path / "m")
    seed = seed_owners(env, 4)
    portal = portal_factory(env)
    stop = threading.Event()
    writers = [DraftWriter(portal, seed, owner, throwaway_postgres, database, index, stop)
               for index, owner in enumerate(seed["owners"])]
    for writer in writers:
        writer.start()
    try:
        def all_writers(predicate):  # or one writer gave up: the assertions below say why
            return lambda: not all(w.is_alive() for w in writers) or all(predicate(w) for w in writers)

        wait_until(all_writers(lambda w: len(w.acknowledged_at) >= 3), 30, "the writers did not start")
        throwaway_postgres.restart(mode="fast")  # a restart in the middle of the saves
        restarted_at = time.monotonic()
        wait_until(all_writers(lambda w: w.acknowledged_at[-1] > restarted_at), 30,
                   "saves did not resume after the restart")

        throwaway_postgres.stop(mode="fast")  # a longer outage, so that every writer meets it
        wait_until(all_writers(lambda w: 503 in w.statuses), 20, "no 503 while the database was down")
        page = requests.Session()
        page.cookies.set(seed["session_cookie"], seed["owners"][0]["session"])
        outage_page = page.get(f"{portal.url}/mes-projets/", timeout=10)
        throwaway_postgres.start()
        back_at = time.monotonic()
        wait_until(all_writers(lambda w: w.acknowledged_at[-1] > back_at), 30,
                   "saves did not resume once the database was back")
        time.sleep(0.5)
    finally:
        stop.set()
        for writer in writers:
            writer.join(timeout=30)

    assert outage_page.status_code == 503
    assert outage_page.headers["Retry-After"] == "30"
    assert "Service momentanément indisponible" in outage_page.text
    assert "Ce que vous aviez enregistré auparavant n'est pas perdu" in outage_page.text
    for writer in writers:
        assert not writer.failure
        assert set(writer.statuses) <= {200, 503, 409, "connection"}, writer.statuses  # never a 500
        assert writer.unavailable_bodies[0]["unavailable"] is True
        assert "momentanément indisponible" in writer.unavailable_bodies[0]["error"]
        (title, summary, problem, version), = throwaway_postgres.query(
            "SELECT title, summary, problem, version FROM applications_proposal WHERE id = %s",
            [writer.owner["draft"]], database=database)
        sequence = int(title.rsplit("-", 1)[1])
        # One whole save: the three fields of the same request, whole.
        assert {"title": title, "summary": summary, "problem": problem} == writer.texts(sequence)
        # The last acknowledged save, or a later one whose answer was lost (then the next save said 409).
        assert sequence == writer.acknowledged or sequence in writer.unsure
        if sequence == writer.acknowledged:
            assert version == writer.version
    audit = run_django("from ami.audit import verify\nprint(json.dumps(verify()))", env)
    assert audit[0] is True, audit
    saves = sum(w.statuses.count(200) for w in writers)
    assert audit[2] >= saves  # one audit entry per acknowledged save (and the owners' set-up)
