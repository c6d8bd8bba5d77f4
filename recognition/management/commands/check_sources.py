"""Check that every cited source link still answers, and record what each one did.

HEAD first (cheap for the sites we cite), GET when a server refuses HEAD; redirects
followed up to 5; 8 links at a time, so a run over the whole dataset takes seconds,
not one timeout after another. The standard library does the fetching: see
recognition/links.py for why.

The results are for staff (the admin and the data-quality desk), so recording
them leaves the public pages' cache alone.
"""

import math
from argparse import ArgumentTypeError

from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from recognition import links


def _positive(kind):
    def parse(value):
        try:
            number = kind(value)
        except ValueError:
            number = 0
        if not (math.isfinite(number) and number > 0):
            raise ArgumentTypeError(f"expected a positive number, got {value!r}")
        return number

    return parse


def _days(value):
    if not value.isdigit():
        raise ArgumentTypeError(f"expected a whole number of days, got {value!r}")
    return int(value)


class Command(BaseCommand):
    help = "Check every source link (HEAD, then GET if refused), record its status, and list the broken ones."

    def add_arguments(self, parser):
        parser.add_argument(
            "--timeout",
            type=_positive(float),
            default=links.DEFAULT_TIMEOUT,
            help=f"Seconds to wait for a connection or an answer (default {links.DEFAULT_TIMEOUT:g}).",
        )
        parser.add_argument(
            "--workers",
            type=_positive(int),
            default=links.DEFAULT_WORKERS,
            help=f"Links checked at a time (default {links.DEFAULT_WORKERS}).",
        )
        parser.add_argument(
            "--only-published", action="store_true", help="Only the sources of published records."
        )
        parser.add_argument(
            "--stale-days",
            type=_days,
            metavar="N",
            help="Only sources not checked in the last N days (never checked included).",
        )

    def handle(self, *args, timeout, workers, only_published, stale_days, **options):
        sources = links.sources_to_check(only_published=only_published, stale_days=stale_days)
        report = links.check_sources(sources, timeout=timeout, workers=workers)
        checked, broken = len(report.checked), report.broken
        redirected = sum(result.outcome == links.LinkOutcome.REDIRECTED for _s, result in report.checked)
        summary = ngettext("Checked %(n)d source link: ", "Checked %(n)d source links: ", checked) % {
            "n": checked
        }
        summary += f"{checked - len(broken)} ok ({redirected} redirected), {len(broken)} broken."
        self.stdout.write(summary)
        for source, result in broken:
            status = f"HTTP {result.status}, " if result.status is not None else ""
            self.stdout.write(
                f"  source {source.pk} (record {source.resolution_id}): "
                f"{status}{result.outcome.label.lower()}: {source.url}"
            )
        if report.skipped:
            self.stdout.write(
                ngettext(
                    "%(n)d link not checked (neither http nor https):",
                    "%(n)d links not checked (neither http nor https):",
                    len(report.skipped),
                )
                % {"n": len(report.skipped)}
            )
            for source in report.skipped:
                self.stdout.write(f"  source {source.pk} (record {source.resolution_id}): {source.url}")
        if options["verbosity"] >= 2:
            for source, result in report.checked:
                if not result.broken:
                    self.stdout.write(f"  ok: source {source.pk}: {result.status} {result.final_url}")
