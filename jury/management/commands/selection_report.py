"""python manage.py selection_report SLUG [--output FILE] [--draft]"""

import shutil
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from ami.models import Call
from jury.models import ReportStatus, SelectionReport
from jury.report.services import ReportRefused, request_report


class Command(BaseCommand):
    help = ("Writes the PDF selection report of a call, produced by the same Celery task as the staff button "
            "(a worker when REDIS_URL is set, in-process otherwise); waits for it.")

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--output", help="file to write (standard output when absent)")
        parser.add_argument("--draft", action="store_true",
                            help="allow a watermarked working version while the decisions are not locked")
        parser.add_argument("--timeout", type=int, default=900, help="seconds to wait for the worker")

    def handle(self, slug, output=None, draft=False, timeout=900, **options):
        call = Call.objects.filter(slug=slug).first()
        if call is None:
            raise CommandError(f"No call with the slug {slug!r}.")
        try:
            report, created = request_report(call=call, by=None, draft=draft)
        except ReportRefused as refusal:
            raise CommandError(refusal.messages[0])
        self.stderr.write(f"{'Asked for' if created else 'Reusing'} version {report.version} "
                          f"(snapshot {report.sha256[:12]}…); waiting for the worker")
        report = self._wait(report, timeout)
        with report.file.open("rb") as source:
            if output:
                with open(output, "wb") as target:
                    shutil.copyfileobj(source, target)
                self.stderr.write(f"Wrote {output}: {report.pages} pages, SHA-256 {report.pdf_sha256}")
            else:
                shutil.copyfileobj(source, sys.stdout.buffer)
                sys.stdout.flush()

    def _wait(self, report, timeout):
        deadline = time.monotonic() + timeout
        while True:
            report = SelectionReport.objects.get(pk=report.pk)
            if report.status == ReportStatus.DONE:
                return report
            if report.status == ReportStatus.FAILED:
                raise CommandError(f"The report failed: {report.error}")
            if time.monotonic() > deadline:
                raise CommandError(f"No report after {timeout} s: is a Celery worker running?")
            time.sleep(0.5)
