"""Synthetic demo data for benchmarks: realistic in shape, never mixed with real records.

Every demo record is recognisable: titles start with DEMO_TITLE_PREFIX, identifiers
with "DEMO-", places are "Demo City N" / "Demo 911 District N", and sources point
at the reserved `.invalid` domain. `seed_demo` refuses to run on a database that
holds any other resolution.
"""

import datetime
import random
from dataclasses import dataclass

from django.db import transaction
from django.utils.text import slugify

from .dates import Precision
from .models import Confidence, Jurisdiction, Kind, Level, Resolution, Source, Status

DEMO_TITLE_PREFIX = "[Demo] "
DEMO_SOURCE_HOST = "https://records.demo.invalid"
BATCH = 5000

LEVEL_WEIGHTS = [(Level.STATE, 4), (Level.COUNTY, 36), (Level.PLACE, 48), (Level.DISTRICT, 12)]
STATE_KINDS = [(Kind.STATUTE, 5), (Kind.BILL, 4), (Kind.RESOLUTION, 4), (Kind.EXECUTIVE_ORDER, 1)]
LOCAL_KINDS = [(Kind.RESOLUTION, 12), (Kind.PROCLAMATION, 5), (Kind.ORDINANCE, 2)]
STATUS_WEIGHTS = [(Status.ADOPTED, 80), (Status.INTRODUCED, 12), (Status.FAILED, 8)]
PRECISION_WEIGHTS = [(Precision.DAY, 70), (Precision.MONTH, 20), (Precision.YEAR, 10)]
WORDS = [
    "telecommunicators",
    "dispatchers",
    "first responders",
    "emergency communications",
    "911 professionals",
]


class RealDataPresent(Exception):
    """The database holds resolutions that are not demo data."""


@dataclass
class DemoReport:
    places: int
    resolutions: int
    seconds: float


def non_demo_resolutions():
    return Resolution.objects.exclude(title__startswith=DEMO_TITLE_PREFIX)


def _pick(rng, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def _partial(rng, start, end):
    """A random partial date between start and end: (first day of period, precision)."""
    day = start + datetime.timedelta(days=rng.randrange((end - start).days + 1))
    precision = _pick(rng, PRECISION_WEIGHTS)
    if precision == Precision.YEAR:
        return datetime.date(day.year, 1, 1), precision
    if precision == Precision.MONTH:
        return day.replace(day=1), precision
    return day, precision


def _create_places(rng, counties, count):
    places = []
    for number in range(1, count + 1):
        county = rng.choice(counties)
        is_district = rng.random() < 0.2
        name = f"Demo 911 District {number}" if is_district else f"Demo City {number}"
        places.append(
            Jurisdiction(
                level=Level.DISTRICT if is_district else Level.PLACE,
                name=name,
                slug=slugify(name),
                parent_id=county.parent_id,
                county_id=county.pk,
            )
        )
    Jurisdiction.objects.bulk_create(places, batch_size=BATCH)
    return list(demo_places())


def _resolution(rng, number, jurisdiction, level):
    kind = _pick(rng, STATE_KINDS if level == Level.STATE else LOCAL_KINDS)
    status = _pick(rng, STATUS_WEIGHTS)
    introduced_on, introduced_precision = _partial(rng, datetime.date(2015, 1, 1), datetime.date(2026, 6, 30))
    adopted_on = adopted_precision = None
    if status == Status.ADOPTED:
        # Adopted within a year of introduction, stored at day precision so it is never "before".
        adopted_on = introduced_on + datetime.timedelta(days=rng.randrange(0, 365))
        adopted_precision = Precision.DAY
    confidence = _pick(rng, [(Confidence.HIGH, 60), (Confidence.MEDIUM, 35), (Confidence.LOW, 5)])
    topic = rng.choice(WORDS)
    return Resolution(
        jurisdiction=jurisdiction,
        kind=kind,
        status=status,
        body=f"{jurisdiction.name} governing body",
        identifier=f"DEMO-{number}",
        title=f"{DEMO_TITLE_PREFIX}Recognizing {topic} as first responders ({number})",
        summary=f"Synthetic record {number} for benchmarks: recognizes {topic} as first responders.",
        introduced_on=introduced_on,
        introduced_on_precision=introduced_precision,
        adopted_on=adopted_on,
        adopted_on_precision=adopted_precision or "",
        published=confidence != Confidence.LOW and rng.random() < 0.95,
        confidence=confidence,
    )


def demo_places():
    return Jurisdiction.objects.filter(
        level__in=[Level.PLACE, Level.DISTRICT], name__regex=r"^Demo (City|911 District) [0-9]+$"
    )


def clear_demo():
    """Remove earlier demo data, so seeding twice with one seed gives the same database."""
    Resolution.objects.filter(title__startswith=DEMO_TITLE_PREFIX).delete()
    demo_places().delete()


@transaction.atomic
def seed_demo(resolutions, places, seed=1):
    """Create `places` demo places/districts and `resolutions` demo resolutions, deterministically."""
    if non_demo_resolutions().exists():
        raise RealDataPresent("This database holds real resolutions: demo data is never mixed with them.")
    started = datetime.datetime.now()
    clear_demo()
    rng = random.Random(seed)
    states = list(Jurisdiction.objects.filter(level=Level.STATE, is_territory=False).order_by("fips"))
    counties = list(
        Jurisdiction.objects.filter(level=Level.COUNTY, parent__is_territory=False).order_by("fips")
    )
    local_places = _create_places(rng, counties, places) if places else []
    local_places.sort(key=lambda j: j.name)
    targets = {
        Level.STATE: states,
        Level.COUNTY: counties,
        Level.PLACE: local_places,
        Level.DISTRICT: local_places,
    }
    made, batch = 0, []
    for number in range(1, resolutions + 1):
        level = _pick(rng, LEVEL_WEIGHTS)
        pool = targets[level] or counties
        jurisdiction = rng.choice(pool)
        batch.append(_resolution(rng, number, jurisdiction, jurisdiction.level))
        if len(batch) == BATCH or number == resolutions:
            created = Resolution.objects.bulk_create(batch)
            Source.objects.bulk_create(
                Source(
                    resolution=r, url=f"{DEMO_SOURCE_HOST}/{r.identifier}", title=f"Minutes ({r.identifier})"
                )
                for r in created
            )
            made += len(created)
            batch = []
    elapsed = (datetime.datetime.now() - started).total_seconds()
    return DemoReport(places=len(local_places), resolutions=made, seconds=elapsed)
