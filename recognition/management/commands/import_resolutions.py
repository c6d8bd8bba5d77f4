"""`manage.py import_resolutions PATH [--dry-run] [--overwrite]`: the command-line door to the importer."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recognition.importer import import_resolutions


class Command(BaseCommand):
    help = (
        "Import resolutions from a CSV file in the starter dataset's format. All or nothing: if any row "
        "has an error, nothing is written and every error is listed. Re-importing a file updates it in place, "
        "except records staff edited in the admin since their import (skipped unless --overwrite); an existing "
        "record is never published or unpublished by an import."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file, UTF-8 (BOM or not), with the starter file's header")
        parser.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="also update records edited (or entered) in the admin since their import; "
            "publication is still left as it is",
        )

    def handle(self, *args, path, dry_run, overwrite, verbosity, **options):
        report = self.run_import(Path(path), dry_run, overwrite)
        if not report.ok:
            # The message carries every error so that callers of call_command() see them too.
            listed = "\n".join(str(error) for error in report.errors)
            raise CommandError(f"{path}: {len(report.errors)} error(s), nothing was imported.\n{listed}")
        if verbosity >= 1:
            self.write_summary(report, path)
        if verbosity >= 2:
            self.write_rows(report)

    def run_import(self, path, dry_run, overwrite):
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            return import_resolutions(path, dry_run=dry_run, overwrite=overwrite)
        except OSError as error:
            raise CommandError(f"{path}: cannot be read ({error.strerror or error})") from error

    def write_summary(self, report, path):
        would = "would be " if report.dry_run else ""
        lines = [
            f"{'Dry run, nothing written' if report.dry_run else 'Imported'}: {path}",
            f"  {report.created} {would}created, {report.updated} {would}updated",
            f"  {report.unchanged} unchanged",
        ]
        if report.skipped:
            # Every skipped line, not only at -v 2: each is a record someone may want to overwrite.
            lines.append(f"  {report.skipped} skipped ({report.skip_reasons()}; use --overwrite)")
            lines += [f"    {row.skip_message()}" for row in report.skipped_rows]
        overwritten = [row for row in report.rows if row.overwritten]
        if overwritten:
            verb = "would overwrite" if report.dry_run else "overwrote"
            lines.append(
                f"  {len(overwritten)} of the updates {verb} changes made in the admin (--overwrite)"
            )
            lines += [f"    line {row.line}: overwritten, {row.staff_change}" for row in overwritten]
        lines += [
            f"  {report.published} published, {report.drafts} drafts (no source link, or low confidence)",
            f"  {len(report.new_jurisdictions)} new places or districts {would}created",
        ]
        for new in report.new_jurisdictions:
            county = f" in {new.county}" if new.county else ""
            lines.append(f"    line {new.line}: {new.name}, {new.state}{county} ({new.level})")
        for line in lines:
            self.stdout.write(line)

    def write_rows(self, report):
        for row in report.rows:
            draft = "" if row.published else " [draft]"
            changed = f" ({', '.join(row.changed_fields)})" if row.changed_fields else ""
            self.stdout.write(
                f"line {row.line}: {row.action}{changed}: {row.jurisdiction}: {row.resolution}{draft}"
            )
