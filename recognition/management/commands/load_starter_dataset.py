"""`manage.py load_starter_dataset [PATH]`: the starter dataset, into a database that has no resolutions yet.

`make run`, `make setup` and `make serve` run this every time, and re-running setup must never undo staff
work: once any resolution exists (a draft counts), the records are the staff's, and this changes nothing.
A newer dataset reaches an existing database through `import_resolutions`, which leaves publication and
staff edits alone.
"""

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand

from recognition.models import Resolution

STARTER_DATASET = Path(__file__).resolve().parents[2] / "data" / "starter_dataset.csv"


class Command(BaseCommand):
    help = (
        "Load the starter dataset into a database without resolutions (drafts included); otherwise change "
        "nothing. To bring a newer dataset into an existing database, use import_resolutions."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path",
            nargs="?",
            default=str(STARTER_DATASET),
            help="CSV file (default: the shipped starter dataset)",
        )

    def handle(self, *args, path, verbosity, **options):
        present = Resolution.objects.count()
        if present:
            if verbosity >= 1:
                self.stdout.write(f"{present} records already present; starter dataset not loaded")
            return
        call_command("import_resolutions", path, verbosity=verbosity, stdout=self.stdout, stderr=self.stderr)
