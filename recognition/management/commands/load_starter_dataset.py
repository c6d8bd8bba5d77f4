"""`manage.py load_starter_dataset [PATH]`: the starter dataset, into a database that has no resolutions yet.

`make run`, `make setup` and `make serve` run this every time, and re-running setup must never undo staff
work: once any resolution exists (a draft counts), the records are the staff's, and this changes nothing.
Into an empty database it loads the measures, puts each federal one in its Congress, then loads their
actions (which set each measure's stage), all in one transaction. A newer dataset reaches an existing
database through `import_resolutions` and `import_actions`, which leave publication and staff edits alone.
"""

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from recognition.congresses import ensure_congresses, link_federal_measures
from recognition.models import Resolution

DATA = Path(__file__).resolve().parents[2] / "data"
STARTER_DATASET = DATA / "starter_dataset.csv"
STARTER_ACTIONS = DATA / "starter_actions.csv"


class Command(BaseCommand):
    help = (
        "Load the starter dataset and its actions into a database without resolutions (drafts included); "
        "otherwise change nothing. To bring a newer dataset into an existing database, use "
        "import_resolutions and import_actions."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path",
            nargs="?",
            default=str(STARTER_DATASET),
            help="CSV file (default: the shipped starter dataset)",
        )
        parser.add_argument(
            "--actions",
            help="CSV file of the measures' actions (default: the shipped one, with the shipped dataset)",
        )

    def handle(self, *args, path, actions, verbosity, **options):
        present = Resolution.objects.count()
        if present:
            if verbosity >= 1:
                self.stdout.write(f"{present} records already present; starter dataset not loaded")
            return
        if actions is None and Path(path).resolve() == STARTER_DATASET:
            actions = str(STARTER_ACTIONS)
        streams = {"verbosity": verbosity, "stdout": self.stdout, "stderr": self.stderr}
        with transaction.atomic():  # a file that fails leaves the database empty, and the next setup retries
            call_command("import_resolutions", path, **streams)
            ensure_congresses()
            linked = link_federal_measures(Resolution.objects.all())
            if verbosity >= 1:
                self.stdout.write(f"{linked} federal measures linked to their Congress")
            if actions:
                call_command("import_actions", actions, **streams)
