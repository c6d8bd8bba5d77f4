"""`manage.py load_population [PATH]`: the command-line door to recognition.population_loader."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recognition.population_loader import DEFAULT_PATH, load_population


class Command(BaseCommand):
    help = (
        "Set the population of each state and county from Census Bureau estimates, matched by FIPS code "
        "(default: the shipped Vintage 2022 file). All or nothing: if any row has an error, nothing is "
        "written and every error is listed. Safe to re-run: it writes only figures that changed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path",
            nargs="?",
            help="CSV file with the columns level, fips, state_name, name, pop_2020, pop_2021, pop_2022 "
            "(default: recognition/data/census/population_2022.csv)",
        )

    def handle(self, *args, path, verbosity, **options):
        path = Path(path) if path else DEFAULT_PATH
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            report = load_population(path)
        except OSError as error:
            raise CommandError(f"{path}: cannot be read ({error.strerror or error})") from error
        if not report.ok:
            # The message carries every error so that callers of call_command() see them too.
            listed = "\n".join(str(error) for error in report.errors)
            raise CommandError(f"{path}: {len(report.errors)} error(s), nothing was loaded.\n{listed}")
        if verbosity >= 1:
            for line in report.summary_lines():
                self.stdout.write(line)
