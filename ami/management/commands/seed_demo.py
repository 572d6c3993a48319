from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ami import demo


class Command(BaseCommand):
    help = "Creates the demo calls (2018, 2019, demo) and one demo account per role. Idempotent."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo creates accounts with a published password: it runs only with DEBUG on.")
        accounts = demo.seed()
        self.stdout.write(self.style.SUCCESS("Demo ready: ami-ia-2018, ami-ia-2019, ami-ia-demo."))
        self.stdout.write(f"Demo accounts (password for all: {demo.DEMO_PASSWORD}):")
        for account in accounts:
            self.stdout.write(f"  {account.role:45} {account.email}")
