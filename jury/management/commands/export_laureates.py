"""python manage.py export_laureates SLUG --format csv|xlsx|ods|json [--output FILE]"""

import sys

from django.core.management.base import BaseCommand, CommandError

from ami.models import Call
from jury import exports
from jury.models import ExportDataset, ExportFormat


class Command(BaseCommand):
    help = "Writes the laureates of an announced call: the same rows and columns as the open-data URLs."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--format", choices=ExportFormat.values, default="csv")
        parser.add_argument("--output", help="file to write (standard output when absent)")

    def handle(self, slug, format, output=None, **options):
        call = Call.objects.filter(slug=slug).first()
        if call is None:
            raise CommandError(f"No call with the slug {slug!r}.")
        if not call.results_public:
            raise CommandError(f"The results of {slug!r} are not announced yet: there is no public list to export.")
        columns, rows, _ = exports.dataset(call, ExportDataset.LAUREATES)
        if output:
            with open(output, "wb") as handle:
                exports.write(format, columns, rows, handle, title=call.slug)
            self.stderr.write(f"Wrote {output}")
        else:
            exports.write(format, columns, rows, sys.stdout.buffer, title=call.slug)
            sys.stdout.flush()
