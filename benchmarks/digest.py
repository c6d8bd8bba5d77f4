"""Weekly digest at scale: 10,000 confirmed followers, 50 new items, rendered and sent over SMTP.

    .venv/bin/python benchmarks/digest.py [--followers 10000] [--items 50]

Uses a throwaway SQLite database (DIGEST_DATABASE_URL to choose another, e.g. PostgreSQL) and an
aiosmtpd sink (its `Sink` handler: accepts and discards) in a process of its own on a free port, so the
server does not share this process's interpreter lock. Prints
messages per second and the process's peak resident memory before and after the send (ru_maxrss;
tracemalloc would slow the very thing measured) against the target of
200 messages per second. For people, never part of `make test`.
"""

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 200  # messages per second


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=50)
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="digest-bench-")
    os.environ.setdefault(
        "DATABASE_URL", os.environ.get("DIGEST_DATABASE_URL", f"sqlite:///{folder}/bench.sqlite3")
    )
    os.environ.setdefault("DJANGO_SECRET_KEY", "digest-benchmark-only")
    os.environ["DJANGO_TASKS_BACKEND"] = "immediate"
    os.environ["DJANGO_SITE_URL"] = "https://tracker.example.org"
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    from recognition import alerts
    from recognition.models import (
        Confidence,
        Follow,
        FollowTarget,
        Frequency,
        Jurisdiction,
        Kind,
        Level,
        Resolution,
        Source,
        Status,
        Subscriber,
    )

    call_command("migrate", verbosity=0)
    nation, _ = Jurisdiction.objects.get_or_create(level=Level.NATION, defaults={"name": "United States"})
    state, _ = Jurisdiction.objects.get_or_create(
        level=Level.STATE, usps="AL", defaults={"name": "Alabama", "parent": nation, "fips": "01"}
    )
    county, _ = Jurisdiction.objects.get_or_create(
        level=Level.COUNTY, fips="01097", defaults={"name": "Mobile County", "parent": state}
    )
    week_ago = timezone.now() - timezone.timedelta(days=7)
    Subscriber.objects.bulk_create(
        [
            Subscriber(email=f"reader{n}@example.org", created_at=week_ago, confirmed_at=week_ago)
            for n in range(args.followers)
        ],
        batch_size=2000,
    )
    Follow.objects.bulk_create(
        [
            Follow(
                subscriber=s,
                target=FollowTarget.JURISDICTION,
                jurisdiction=state,
                frequency=Frequency.WEEKLY,
                created_at=week_ago,
            )
            for s in Subscriber.objects.all()
        ],
        batch_size=2000,
    )
    for n in range(args.items):  # each publication writes its news item, as the admin's would
        measure = Resolution.objects.create(
            jurisdiction=county,
            kind=Kind.RESOLUTION,
            status=Status.ADOPTED,
            title=f"Resolution {n} recognizing 911 telecommunicators as first responders",
            confidence=Confidence.HIGH,
        )
        Source.objects.create(resolution=measure, url=f"https://example.org/minutes/{n}")
        measure.published = True
        measure.save()

    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"]
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # until it accepts connections
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port},
        }
    }
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    sent = alerts.send_digests_now()
    elapsed = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sink.terminate()
    sink.wait()
    rate = sent / elapsed if elapsed else 0.0
    verdict = "PASS" if rate >= TARGET else "MISS"
    print(
        f"digests: {sent:,} messages to {args.followers:,} followers, {args.items} items, in {elapsed:.1f} s"
    )
    print(
        f"throughput: {rate:,.0f} messages/s (target >= {TARGET}: {verdict}); peak RSS {rss_before / 1024:.0f} MiB before, {rss_after / 1024:.0f} MiB after the send"
    )


if __name__ == "__main__":
    main()
