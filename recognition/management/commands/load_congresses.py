"""`manage.py load_congresses`: the Congresses of the starter data (116th to 119th), as reference data.

`make setup`, `make run` and `make serve` run it after `load_geography` (it needs the nation). Idempotent:
a Congress already there is left as it is, whoever created it.
"""

from django.core.management.base import BaseCommand

from recognition.congresses import SHIPPED, ensure_congresses, name


class Command(BaseCommand):
    help = (
        f"Create the {name(SHIPPED[0])} to the {name(SHIPPED[-1])} (their terms are fixed by the 20th "
        "Amendment) where missing. Safe to re-run: it never changes or deletes a session."
    )

    def handle(self, *args, verbosity, **options):
        created = ensure_congresses()
        if verbosity >= 1:
            self.stdout.write(f"Congresses ({name(SHIPPED[0])} to {name(SHIPPED[-1])}): {created} created")
