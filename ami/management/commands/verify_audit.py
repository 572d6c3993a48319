"""Checks the hash chain of the audit trail; exits with status 1 when it is broken."""

from django.core.management.base import BaseCommand, CommandError

from ami.audit import verify


class Command(BaseCommand):
    help = "Recomputes the hash chain of the audit trail and reports the first altered entry, if any."

    def handle(self, *args, **options):
        ok, broken_id, count = verify()
        if not ok:
            raise CommandError(f"Audit trail broken at entry {broken_id} (after checking {count} entries).")
        self.stdout.write(f"Audit trail intact: {count} entries checked.")
