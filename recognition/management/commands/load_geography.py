from django.core.management.base import BaseCommand

from recognition.geography_loader import load_geography


class Command(BaseCommand):
    help = (
        "Create or update the nation, states, territories and counties with their map shapes "
        "(us package + us-atlas). Safe to re-run: it writes only what changed and never deletes."
    )

    def handle(self, *args, **options):
        report = load_geography()
        if options["verbosity"] >= 1:
            for line in report.summary_lines():
                self.stdout.write(line)
