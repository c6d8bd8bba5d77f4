"""`manage.py load_congresses [--link]`: the Congresses of the starter data (116th to 119th).

`make setup`, `make run` and `make serve` run it after `load_geography` (it needs the nation). Idempotent:
a Congress already there is left as it is, whoever created it. `--link` also puts each federal measure
that has no session in its Congress: how a database loaded before sessions existed catches up (a new
database gets it from `load_starter_dataset`).
"""

from django.core.management.base import BaseCommand

from recognition.congresses import SHIPPED, ensure_congresses, link_federal_measures, name
from recognition.models import Resolution


class Command(BaseCommand):
    help = (
        f"Create the {name(SHIPPED[0])} to the {name(SHIPPED[-1])} (their terms are fixed by the 20th "
        "Amendment) where missing. Safe to re-run: it never changes or deletes a session."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--link",
            action="store_true",
            help="also put each federal measure without a session in its Congress: the one its body names "
            "(“U.S. Senate (119th Congress)”), else the one its introduction date falls in",
        )

    def handle(self, *args, link, verbosity, **options):
        created = ensure_congresses()
        linked = link_federal_measures(Resolution.objects.all()) if link else None
        if verbosity >= 1:
            self.stdout.write(f"Congresses ({name(SHIPPED[0])} to {name(SHIPPED[-1])}): {created} created")
            if linked is not None:
                self.stdout.write(f"{linked} federal measures linked to their Congress")
