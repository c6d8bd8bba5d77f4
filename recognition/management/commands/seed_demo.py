from django.core.management.base import BaseCommand, CommandError

from recognition.demo import RealDataPresent, seed_demo


class Command(BaseCommand):
    help = "Seed synthetic demo data for benchmarks (refuses a database that holds real resolutions)."

    def add_arguments(self, parser):
        parser.add_argument("--resolutions", type=int, default=1000)
        parser.add_argument("--places", type=int, default=200)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, resolutions, places, seed, **options):
        if resolutions < 0 or places < 0:
            raise CommandError("--resolutions and --places must be zero or more.")
        try:
            report = seed_demo(resolutions=resolutions, places=places, seed=seed)
        except RealDataPresent as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Seeded {report.resolutions} demo resolutions and {report.places} demo places "
            f"in {report.seconds:.1f} s (seed {seed})."
        )
