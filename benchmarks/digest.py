"""Weekly digest at scale: 10,000 confirmed followers, 50 new items, rendered and sent over SMTP.

    .venv/bin/python benchmarks/digest.py [--followers 10000] [--items 50] [--workers 2]

As production sends them: `send_digests` splits the digests into tasks of 200 addresses, and `--workers`
task workers (`manage.py db_worker --batch`, each a process of its own) share them through the database
queue, each sending over SMTP to a local sink (benchmarks/smtp_sink.py, which only counts). `--workers 0`
sends everything from this process instead. Needs PostgreSQL for workers (DIGEST_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/tracker_digest, dropped and created anew each run: never point it at
real data); `--workers 0` may use SQLite (DIGEST_DATABASE_URL=sqlite:///...).

Prints messages per second, from the first planning query to the last mail accepted, the messages the
sink counted, and the peak resident memory of the sending processes (ru_maxrss: the largest worker's, or
this process's before and after), against the target of 200 messages per second with memory flat (run
with --followers 2000 and 10000 to compare). For people, never part of `make test`.
"""

import argparse
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 200  # messages per second


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tracker_digest"


def fresh_database(url):
    """Drop and create the benchmark's PostgreSQL database (the name must say it is a benchmark's)."""
    import dj_database_url
    import psycopg2
    from psycopg2 import sql

    config = dj_database_url.parse(url)
    name = config["NAME"]
    if "digest" not in name and "bench" not in name:
        sys.exit(f"refusing to drop {name!r}: the benchmark's database name must contain 'digest' or 'bench'")
    admin = psycopg2.connect(
        dbname="postgres", user=config["USER"], host=config["HOST"], port=config["PORT"] or 5432,
        password=config["PASSWORD"] or None,
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()


def start_sink():
    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "smtp_sink.py"), "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    if sink.stdout.readline().strip() != "ready":
        sys.exit("the SMTP sink did not start")
    return sink, port


def stop_sink(sink):
    sink.send_signal(signal.SIGTERM)
    out, _ = sink.communicate(timeout=30)
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="task workers sharing the sends (0: this process)")
    args = parser.parse_args()

    url = os.environ.get("DIGEST_DATABASE_URL", DEFAULT_URL)
    if url.startswith("postgres"):
        fresh_database(url)
    elif args.workers:
        sys.exit("workers share the queue through PostgreSQL: set DIGEST_DATABASE_URL=postgres://... or --workers 0")
    sink, port = start_sink()
    env = {
        "DATABASE_URL": url,
        "DJANGO_SECRET_KEY": "digest-benchmark-only",
        "DJANGO_TASKS_BACKEND": "database" if args.workers else "immediate",
        "DJANGO_SITE_URL": "https://tracker.example.org",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
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
    if args.workers:
        from django_tasks_db.models import DBTaskResult

        DBTaskResult.objects.all().delete()  # the publications' "as it happens" tasks: nobody follows so
    from django.db import connections

    connections.close_all()

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if args.workers:
        batches = alerts.queue_digest_batches()
        workers = [
            subprocess.Popen(
                [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay", "-v", "0"],
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=subprocess.DEVNULL,
            )
            for _ in range(args.workers)
        ]
        failed = [w.wait() for w in workers]
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest worker (the sink runs on)
        memory = f"peak RSS of the largest worker {peak / 1024:.0f} MiB"
        how = f"{batches} tasks of at most {alerts.SEND_BATCH} addresses, {args.workers} worker(s)"
        if any(failed):
            sys.exit(f"a worker failed: exit codes {failed}")
    else:
        sent = alerts.send_digests_now()
        elapsed = time.perf_counter() - started
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        memory = f"peak RSS {rss_before / 1024:.0f} MiB before, {rss_after / 1024:.0f} MiB after the send"
        how = f"this process alone ({sent:,} sent)"
    counted = stop_sink(sink)
    if counted["messages"] != args.followers:
        sys.exit(f"the sink counted {counted['messages']} messages, expected {args.followers}")
    rate = counted["messages"] / elapsed if elapsed else 0.0
    verdict = "PASS" if rate >= TARGET else "MISS"
    print(
        f"digests: {counted['messages']:,} messages ({counted['bytes'] / counted['messages'] / 1024:.1f} KiB "
        f"each) to {args.followers:,} followers, {args.items} items, in {elapsed:.1f} s; {how}"
    )
    print(f"throughput: {rate:,.0f} messages/s (target >= {TARGET}: {verdict}); {memory}")


if __name__ == "__main__":
    main()
