"""Publish, then browse: how many visitors' requests are served cold after a publish, with and without the worker.

`python benchmarks/warm.py` (or `make bench`, which runs it in a process of its own). gunicorn (2 workers,
the Redis cache, DEBUG off) serves BENCH_DATABASE_URL; this process plays the publisher: each round it
edits a few published records in different states (one transaction, as one admin action), then, `delay`
seconds after the commit, a visitor requests every page that change made cold and that warming covers:
`/`, `/?layer=counties`, `/resolutions/`, and the touched states' and counties' pages, one after another,
as an HTTP client asking for gzip. Before each request the page's key for the current data version is
looked up in Redis (the key the page cache computes, from an environ built here as the client sends it):
absent means the request is served cold. Run twice: without the worker (nothing warms) and with
`manage.py db_worker` running beside gunicorn (its default 1 s poll). The records get their own summaries
back at the end. Prints the shares and, with --json, one JSON line (what run.py reads).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import run as bench  # noqa: E402  (environment, port, fetch, HTTP client)

DELAYS = (2.0, 5.0)
ROUNDS = 3  # per delay and mode
STATES = ("TX", "CA", "NY")  # one county record edited in each, per publish
JSON_MARK = "WARM_JSON "
WARM_UP_SECONDS = 8.0  # after the uncounted first publish: each process's first pages import and prepare


def records():
    """One published county record in each of STATES: (pk, its summary)."""
    from recognition.models import Level, Resolution

    chosen = []
    for usps in STATES:
        record = (
            Resolution.objects.published()
            .filter(jurisdiction__level=Level.COUNTY, jurisdiction__parent__usps=usps)
            .order_by("pk")
            .values_list("pk", "summary")
            .first()
        )
        if record is not None:
            chosen.append(record)
    return chosen


def pages(record_pks):
    """What a publish of these records makes cold and the warmer covers, in the order a visitor asks."""
    from recognition.models import Resolution

    addresses = ["/", "/?layer=counties", "/resolutions/"]
    counties = Resolution.objects.filter(pk__in=record_pks).select_related("jurisdiction__parent")
    for record in counties.order_by("pk"):
        county = record.jurisdiction
        addresses.append(f"/states/{county.parent.usps.lower()}/")
        addresses.append(f"/states/{county.parent.usps.lower()}/{county.slug}/")
    return addresses


def publish(chosen, round_number):
    """An edit of each record, in one transaction (an admin action): a new data version."""
    from django.db import transaction

    from recognition.models import Resolution

    with transaction.atomic():
        for pk, summary in chosen:
            record = Resolution.objects.get(pk=pk)
            record.summary = f"{summary} (checked, round {round_number})"
            record.save(update_fields=["summary", "updated_at"])


def restore(chosen):
    from django.db import transaction

    from recognition.models import Resolution

    with transaction.atomic():
        for pk, summary in chosen:
            record = Resolution.objects.get(pk=pk)
            record.summary = summary
            record.save(update_fields=["summary", "updated_at"])


def is_cached(address, port):
    """Whether the page cache holds `address` for the current data version, as the HTTP client asks it."""
    from django.core.cache import cache

    from recognition.pagecache import canonicalize, page_key, policy_for
    from recognition.versioning import current_version

    path, _, query = address.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "HTTP_HOST": f"127.0.0.1:{port}",
        "HTTP_ACCEPT_ENCODING": "gzip",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": str(port),
        "wsgi.url_scheme": "http",
    }
    policy = policy_for(path)
    canonicalize(environ, policy)
    return cache.has_key(page_key(current_version()[0], environ, policy))


def browse(http, port, addresses):
    """One visitor's requests: [(address, served cold, seconds to the last byte, status)]."""
    visits = []
    for address in addresses:
        cold = not is_cached(address, port)
        seconds, status, _size = http.get(address)
        visits.append((address, cold, seconds, status))
    return visits


def start_worker(port, log_path):
    env = {**os.environ, "DJANGO_WARM_PAGES": "1", "DJANGO_SITE_URL": f"http://127.0.0.1:{port}"}
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "manage.py", "db_worker"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def forget_queued_tasks():
    """Tasks left queued by earlier runs (no worker was running then) would only delay this one's."""
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(status="READY").delete()


def run_mode(with_worker, chosen, http, port, delays, rounds, workdir):
    """{delay: [visits...]} for one mode; the first publish is a warm-up, not counted."""
    from django.conf import settings

    settings.WARM_PAGES = with_worker  # this process publishes: it queues the tasks (or not)
    worker = start_worker(port, workdir / "worker.log") if with_worker else None
    counter = [0]

    def one_round():
        counter[0] += 1
        publish(chosen, counter[0])
        return time.monotonic()

    results = {}
    try:
        addresses = pages([pk for pk, _summary in chosen])
        one_round()
        time.sleep(WARM_UP_SECONDS)
        browse(http, port, addresses)
        for delay in delays:
            visits = []
            for _round in range(rounds):
                published_at = one_round()
                time.sleep(max(0.0, published_at + delay - time.monotonic()))
                visits += browse(http, port, addresses)
            results[delay] = visits
    finally:
        if worker is not None:
            stop(worker)
    return results


def figures(results):
    by_delay = {}
    for delay, visits in results.items():
        cold = [seconds for _address, was_cold, seconds, _status in visits if was_cold]
        warm = [seconds for _address, was_cold, seconds, _status in visits if not was_cold]
        by_delay[f"{delay:g}"] = {
            "requests": len(visits),
            "cold": len(cold),
            "cold_share": len(cold) / len(visits) if visits else 0.0,
            "cold_p50_ms": bench.percentile(cold, 0.5) * 1000 if cold else None,
            "warm_p50_ms": bench.percentile(warm, 0.5) * 1000 if warm else None,
            "errors": sum(1 for *_rest, status in visits if status != 200),
            "cold_pages": sorted({address for address, was_cold, _seconds, _status in visits if was_cold}),
        }
    return by_delay


def measure(delays=DELAYS, rounds=ROUNDS):
    """The publish-then-browse run, in this process (Django set up here): a dict of figures."""
    from benchmarks import load

    chosen = records()
    if not chosen:
        raise RuntimeError("No published county records in the benchmark database")
    forget_queued_tasks()
    workdir = Path(tempfile.mkdtemp(prefix="bench-warm-"))
    port = bench.free_port()
    server = load.start_gunicorn(port, 2, workdir / "gunicorn.log")
    http = bench.HttpClient(port)
    started = time.monotonic()
    try:
        bench.fetch(f"http://127.0.0.1:{port}/healthz", server)
        without = figures(run_mode(False, chosen, http, port, delays, rounds, workdir))
        with_worker = figures(run_mode(True, chosen, http, port, delays, rounds, workdir))
    finally:
        load.stop_gunicorn(server)
        restore(chosen)
    total = sum(row["requests"] for row in with_worker.values())
    cold = sum(row["cold"] for row in with_worker.values())
    summary = "; ".join(
        f"{delay} s after: cold {with_worker[delay]['cold']}/{with_worker[delay]['requests']} with the worker, "
        f"{without[delay]['cold']}/{without[delay]['requests']} without"
        for delay in with_worker
    )
    return {
        "delays_s": list(delays),
        "rounds": rounds,
        "records_per_publish": len(chosen),
        "pages_per_visit": len(pages([pk for pk, _summary in chosen])),
        "with_worker": with_worker,
        "without_worker": without,
        "cold_share": cold / total if total else 0.0,
        "seconds": time.monotonic() - started,
        "load_average": os.getloadavg(),
        "summary": summary,
        "how": "cold = the page's key for the current data version absent from Redis just before the request",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"publishes per delay and mode ({ROUNDS})")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    args = parser.parse_args()
    bench.configure_environment()
    import django

    django.setup()
    report = measure(rounds=args.rounds)
    for mode in ("without_worker", "with_worker"):
        for delay, row in report[mode].items():
            print(
                f"{mode.replace('_', ' ')}, {delay} s after a publish: {row['cold']}/{row['requests']} "
                f"requests cold ({row['cold_share']:.0%}); cold p50 {row['cold_p50_ms'] or 0:.0f} ms, "
                f"warm p50 {row['warm_p50_ms'] or 0:.0f} ms"
            )
    print(f"({report['seconds']:.0f} s; load average {report['load_average'][0]:.2f})")
    if args.json:
        print(JSON_MARK + json.dumps(report))


if __name__ == "__main__":
    main()
