"""`manage.py import_actions PATH [--dry-run]`: the command-line door to the import of measures' actions."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recognition.action_importer import COLUMNS, import_actions


class Command(BaseCommand):
    help = (
        "Import measures' actions (introduced, referred, passed, signed...) from a CSV file with the columns "
        f"{', '.join(COLUMNS)}. Each row finds its measure by level, state, jurisdiction and identifier. All "
        "or nothing: if any row has an error, nothing is written and every error is listed. Re-importing a "
        "file updates descriptions and sources in place and writes nothing when nothing changed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path", help="CSV file, UTF-8 (BOM or not), with the header of starter_actions.csv"
        )
        parser.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")

    def handle(self, *args, path, dry_run, verbosity, **options):
        report = self.run_import(Path(path), dry_run)
        if not report.ok:
            # The message carries every error so that callers of call_command() see them too.
            listed = "\n".join(str(error) for error in report.errors)
            raise CommandError(f"{path}: {len(report.errors)} error(s), nothing was imported.\n{listed}")
        if verbosity >= 1:
            self.write_summary(report, path)
        if verbosity >= 2:
            self.write_rows(report)

    def run_import(self, path, dry_run):
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            return import_actions(path, dry_run=dry_run)
        except OSError as error:
            raise CommandError(f"{path}: cannot be read ({error.strerror or error})") from error

    def write_summary(self, report, path):
        would = "would be " if report.dry_run else ""
        changed = "would change" if report.dry_run else "changed"
        lines = [
            f"{'Dry run, nothing written' if report.dry_run else 'Imported'}: {path}",
            f"  {report.created} actions {would}created, {report.updated} {would}updated",
            f"  {report.unchanged} unchanged",
            f"  {report.measures} measures; {len(report.stage_changes)} {changed} stage",
        ]
        lines += [f"    {change}" for change in report.stage_changes]
        for line in lines:
            self.stdout.write(line)

    def write_rows(self, report):
        for row in report.rows:
            chamber = f" ({row.chamber})" if row.chamber else ""
            changed = f" ({', '.join(row.changed_fields)})" if row.changed_fields else ""
            self.stdout.write(
                f"line {row.line}: {row.action}{changed}: {row.jurisdiction}: {row.resolution}: "
                f"{row.date} {row.classification}{chamber}"
            )
