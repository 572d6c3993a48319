"""Erases the personal data of non-selected proposals once their call's retention period is over (RGPD).

Idempotent: a proposal already purged is not listed again. Run it daily (cron, or any scheduler).
"""

from django.core.management.base import BaseCommand

from applications.services.retention import calls_past_retention, proposals_to_purge, purge_proposal, retention_ends_at


class Command(BaseCommand):
    help = (
        "Erases texts, attachments, receipts, submitters, jury comments and email contents of the non-selected, "
        "ineligible and withdrawn proposals of calls announced more than Call.retention_months ago."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List what would be erased; change nothing.")

    def handle(self, *args, dry_run=False, **options):
        total = 0
        for call in calls_past_retention():
            proposals = list(proposals_to_purge(call))
            if not proposals:
                continue
            self.stdout.write(f"{call.slug}: retention of {call.retention_months} months ended "
                              f"{retention_ends_at(call):%Y-%m-%d}; {len(proposals)} proposal(s)")
            for proposal in proposals:
                label = proposal.reference or f"#{proposal.pk}"
                if dry_run:
                    self.stdout.write(f"  would purge {label} ({proposal.status})")
                    total += 1
                elif (erased := purge_proposal(proposal=proposal)) is not None:
                    self.stdout.write(f"  purged {label}: {erased['attachments']} attachment(s), "
                                      f"{erased['receipts']} receipt(s), {len(erased['fields'])} text field(s)")
                    total += 1
        verb = "would be purged" if dry_run else "purged"
        self.stdout.write(f"{total} proposal(s) {verb}.")
