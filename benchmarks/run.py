"""Performance at scale: `make bench` (or `python benchmarks/run.py`). A script, never part of the tests.

Against PostgreSQL (BENCH_DATABASE_URL) holding 100,000 demo resolutions and 20,000 demo places, it
measures each public page in-process through the WSGI application gunicorn runs (queries, bytes,
server time cold and warm: caches cleared before each cold request), the full CSV export
in a fresh process (rows per second, peak memory growth) and `/` under load in gunicorn against a
static file of the same size. It prints one table with the targets, writes the figures to
benchmarks/results/, and exits 0 whatever the figures are. See benchmarks/README.md.
"""

import argparse
import datetime
import gzip
import json
import math
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/tracker_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/1"
DEMO = {"resolutions": 100_000, "places": 20_000, "seed": 1}
MS = 1000.0


# --- Setup: environment, database, data ---------------------------------------------------------


def configure_environment():
    """Production-like settings (DEBUG off) for this process and every process it starts."""
    os.environ.update(
        DATABASE_URL=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        DJANGO_SECRET_KEY="bench-only-secret-key-not-for-production",
        DJANGO_DEBUG="0",
        DJANGO_ALLOWED_HOSTS="testserver,127.0.0.1",
        DJANGO_LOG_LEVEL="ERROR",  # a 404 or 400 while measuring is reported in the table, not logged
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    sys.path.insert(0, str(ROOT))


def ensure_database():
    """Create the bench database if it does not exist (connecting to the server's `postgres` database)."""
    import dj_database_url
    import psycopg2
    from psycopg2 import sql

    config = dj_database_url.parse(os.environ["DATABASE_URL"])
    connection = psycopg2.connect(
        dbname="postgres",
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        host=config["HOST"] or None,
        port=config["PORT"] or None,
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
        if cursor.fetchone() is None:
            print(f"Creating database {config['NAME']}")
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
    connection.close()


def manage(*args):
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)


def ensure_demo_data():
    """Seed the demo data unless the database already holds exactly it; the seeding's seconds, or None."""
    from recognition.demo import DEMO_TITLE_PREFIX, demo_places
    from recognition.models import Resolution

    demo = Resolution.objects.filter(title__startswith=DEMO_TITLE_PREFIX).count()
    others = Resolution.objects.count() - demo
    if demo == DEMO["resolutions"] and demo_places().count() == DEMO["places"] and not others:
        print(f"Demo data already there ({demo:,} resolutions, {DEMO['places']:,} places): not re-seeding.")
        return None
    started = time.perf_counter()
    manage("seed_demo", *(f"--{name}={value}" for name, value in DEMO.items()))
    return time.perf_counter() - started


# --- In-process page timings ----------------------------------------------------------------------


def percentile(values, share):
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def bench_urls():
    """(label, url) for every page measured; the jurisdiction and resolution are picked from the data."""
    from recognition.demo import DEMO_TITLE_PREFIX, demo_places
    from recognition.models import Jurisdiction, Resolution

    county = Jurisdiction.objects.filter(parent__usps="TX", slug="harris-county").first()
    if county is None:  # geography without Harris County: the county of any demo place
        county = demo_places().select_related("county__parent").first().county
    resolution = (
        Resolution.objects.published().filter(title__startswith=DEMO_TITLE_PREFIX).order_by("pk").first()
    )
    return [
        ("home (states)", "/"),
        ("home (counties)", "/?layer=counties"),
        ("state", "/states/tx/"),
        ("jurisdiction", county.get_absolute_url()),
        ("resolution", resolution.get_absolute_url()),
        ("list", "/resolutions/?state=TX"),
        ("search", "/resolutions/?q=dispatchers"),
        ("api", "/api/resolutions/?state=TX"),
    ]


class WsgiClient:
    """Requests through config/wsgi.py's application, in this process: what gunicorn's worker runs.

    The page cache sits in front of Django there, so a warm visit is timed as a visitor meets it;
    Django's test client would bypass it.
    """

    def __init__(self):
        from io import BytesIO
        from wsgiref.util import setup_testing_defaults

        from config.wsgi import application

        self.application, self.bytes_io, self.defaults = application, BytesIO, setup_testing_defaults

    def forget(self):
        """A cold start: nothing cached, neither in the shared cache nor in this worker's memory."""
        from django.core.cache import cache

        cache.clear()
        self.application.forget()

    def get(self, url):
        path, _, query = url.partition("?")
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "HTTP_HOST": "127.0.0.1",
            "wsgi.input": self.bytes_io(),
        }
        self.defaults(environ)
        answer = {}

        def start_response(status, headers, exc_info=None):
            answer["status"] = int(status.split()[0])

        result = self.application(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return _Answer(answer["status"], body)


class _Answer:
    def __init__(self, status_code, content):
        self.status_code, self.content = status_code, content


def timed_series(client, url, count, max_seconds, before=None):
    """Seconds per request for up to `count` requests, stopping early after `max_seconds`."""
    times, deadline = [], time.monotonic() + max_seconds
    while len(times) < count and time.monotonic() < deadline:
        if before:
            before()
        started = time.perf_counter()
        client.get(url)
        times.append(time.perf_counter() - started)
    return times


def measure_page(client, url, count, max_seconds):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.forget()
    with CaptureQueriesContext(connection) as cold_queries:
        response = client.get(url)
    with CaptureQueriesContext(connection) as warm_queries:
        client.get(url)
    row = {
        "url": url,
        "status": response.status_code,
        "queries_cold": len(cold_queries),
        "queries_warm": len(warm_queries),
        "bytes": len(response.content),
        "gzip_bytes": len(gzip.compress(response.content)),
    }
    for mode, before in (("cold", client.forget), ("warm", None)):
        times = timed_series(client, url, count, max_seconds, before)
        row[mode] = {
            "n": len(times),
            "p50_ms": percentile(times, 0.5) * MS,
            "p95_ms": percentile(times, 0.95) * MS,
        }
    return row, response.content


# --- CSV export, in a fresh process -----------------------------------------------------------------


def csv_probe():
    """Child process: stream /resolutions.csv fully; print rows, seconds and peak memory growth as JSON."""
    import django

    django.setup()
    from django.test import Client

    client = Client()

    def drain(url):
        response = client.get(url)
        lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
        response.close()
        return lines

    drain("/resolutions.csv?state=VT&kind=statute")  # imports and first queries, outside the baseline
    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    rows = drain("/resolutions.csv") - 1  # less the header
    seconds = time.perf_counter() - started
    after_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": rows, "seconds": seconds, "rss_growth_mb": (after_kb - before_kb) / 1024}))


def measure_csv():
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--csv-probe"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["rows_per_second"] = figures["rows"] / figures["seconds"]
    return figures


# --- Throughput under gunicorn ----------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url, server, timeout=60):
    """(status, body bytes) of one GET, waiting up to `timeout` seconds for the server to accept it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return response.status, len(response.read())
        except urllib.error.HTTPError as error:  # an answer all the same: reported in the table
            return error.code, len(error.read())
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer {url} (exit code {server.poll()})") from None
            time.sleep(0.25)


def load_with_wrk(url, seconds):
    output = subprocess.run(
        ["wrk", "-t2", "-c4", f"-d{seconds}s", "--timeout", "10s", url],
        check=True,
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    non_200 = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = int(non_200.group(1)) if non_200 else 0
    errors += sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    return {"rps": rps, "errors": errors}


def load_with_python(url, seconds, connections=4, max_requests=200_000):
    """Fallback when wrk is missing: keep-alive connections in threads, bounded in time and count."""
    host, port_path = url.removeprefix("http://").split(":", 1)
    port, path = port_path.split("/", 1)
    counts, errors, deadline = [], [], time.monotonic() + seconds

    def worker():
        done = failed = 0
        connection = HTTPConnection(host, int(port), timeout=5)
        while time.monotonic() < deadline and done < max_requests // connections:
            connection.request("GET", "/" + path)
            response = connection.getresponse()
            response.read()
            done, failed = done + 1, failed + (response.status != 200)
        connection.close()
        counts.append(done)
        errors.append(failed)

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"rps": sum(counts) / (time.monotonic() - started), "errors": sum(errors)}


def measure_throughput(home_body, seconds):
    """Requests per second for `/` and for a static file of the same size, one gunicorn with 2 workers."""
    load = load_with_wrk if shutil.which("wrk") else load_with_python
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    static_root = workdir / "static"
    static_root.mkdir()
    (static_root / "home.html").write_bytes(home_body)
    # Plain gunicorn, 2 workers: an empty config file, so the project's gunicorn.conf.py (access log,
    # worker recycling every 2,000 requests) does not weigh on one side of the comparison.
    (workdir / "gunicorn.conf.py").write_text("")
    port = free_port()
    env = {**os.environ, "BENCH_STATIC_ROOT": str(static_root), "DJANGO_ALLOWED_HOSTS": "127.0.0.1"}
    argv = [sys.executable, "-m", "gunicorn", "benchmarks.static_wsgi:application"]
    argv += ["--config", str(workdir / "gunicorn.conf.py"), "-w", "2", "-b", f"127.0.0.1:{port}"]
    argv += ["--no-control-socket"]  # the default control socket is one per user, shared with any gunicorn
    server = subprocess.Popen([*argv, "--log-level", "warning"], cwd=ROOT, env=env)
    figures = {"generator": "wrk -t2 -c4" if load is load_with_wrk else "python, 4 keep-alive threads"}
    try:
        for name, path in (("home", "/"), ("static", "/bench-static/home.html")):
            url = f"http://127.0.0.1:{port}{path}"
            status, size = fetch(url, server)
            for _ in range(4):  # warm-up, one at a time: no backlog left queued for the measured run
                fetch(url, server)
            figures[name] = {"url": path, "status": status, "bytes": size, **load(url, seconds)}
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    figures["ratio"] = figures["home"]["rps"] / figures["static"]["rps"] if figures["static"]["rps"] else 0.0
    return figures


# --- Targets, table, results ------------------------------------------------------------------------


def targets(pages, csv, throughput, seeding_seconds):
    """(name, value, limit, higher_is_better) for each target of the issue."""
    by_label = {page["label"]: page for page in pages}
    checks = [
        ("/ warm p95 ms", by_label["home (states)"]["warm"]["p95_ms"], 30, False),
        ("/states/tx/ warm p95 ms", by_label["state"]["warm"]["p95_ms"], 30, False),
        ("/ cold p95 ms", by_label["home (states)"]["cold"]["p95_ms"], 500, False),
    ]
    checks += [
        (f"{label} warm p95 ms", by_label[label]["warm"]["p95_ms"], 100, False)
        for label in ("list", "search", "api")
    ]
    checks += [
        ("CSV rows/s", csv["rows_per_second"], 20_000, True),
        ("CSV peak memory growth MB", csv["rss_growth_mb"], 50, False),
        ("/ rps vs static file", throughput["ratio"], 0.7, True),
    ]
    if seeding_seconds is not None:
        checks.append(("seeding seconds", seeding_seconds, 120, False))
    return [
        {"name": name, "value": value, "limit": limit, "pass": value >= limit if higher else value <= limit}
        for name, value, limit, higher in checks
    ]


def verdict(checks, *names):
    found = [check for check in checks if check["name"] in names]
    return "" if not found else "PASS" if all(check["pass"] for check in found) else "MISS"


# Page label: (target as printed, names of the checks it stands for).
PAGE_TARGETS = {
    "home (states)": ("warm p95<=30, cold p95<=500", ("/ warm p95 ms", "/ cold p95 ms")),
    "state": ("warm p95<=30", ("/states/tx/ warm p95 ms",)),
    "list": ("warm p95<=100", ("list warm p95 ms",)),
    "search": ("warm p95<=100", ("search warm p95 ms",)),
    "api": ("warm p95<=100", ("api warm p95 ms",)),
}
ROW = "{:<34} {:>6} {:>8} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9}  {:<28} {}"


def print_table(report):
    pages, csv, tp, checks = report["pages"], report["csv"], report["throughput"], report["targets"]
    settings = report["settings"]
    header = ROW.format(
        "page",
        "status",
        "SQL c/w",
        "bytes",
        "gzip",
        "cold p50",
        "cold p95",
        "warm p50",
        "warm p95",
        "target (ms)",
        "result",
    )
    rule = "-" * len(header)
    print("\n" + header + "\n" + rule)
    for page in pages:
        target, names = PAGE_TARGETS.get(page["label"], ("", ()))
        result = verdict(checks, *names) if page["status"] == 200 else f"ERROR {page['status']}"
        cut = [
            f"{mode} n={page[mode]['n']}"
            for mode in ("cold", "warm")
            if page[mode]["n"] < settings["requests"]
        ]
        times = [f"{page[mode][p]:.1f}" for mode in ("cold", "warm") for p in ("p50_ms", "p95_ms")]
        queries = f"{page['queries_cold']}/{page['queries_warm']}"
        sizes = f"{page['bytes']:,}", f"{page['gzip_bytes']:,}"
        print(
            ROW.format(
                page["url"][:34], page["status"], queries, *sizes, *times, target, " ".join([result, *cut])
            )
        )
    print(rule)
    print(
        f"{'/resolutions.csv (all rows)':<34} {csv['rows']:,} rows in {csv['seconds']:.1f} s = "
        f"{csv['rows_per_second']:,.0f} rows/s (target >= 20,000) {verdict(checks, 'CSV rows/s')}; "
        f"peak memory +{csv['rss_growth_mb']:.1f} MB (target <= 50) {verdict(checks, 'CSV peak memory growth MB')}"
    )
    errors = tp["home"]["errors"] + tp["static"]["errors"]
    print(
        f"{'throughput, gunicorn -w 2':<34} / {tp['home']['rps']:,.1f} req/s vs static file "
        f"({tp['static']['bytes']:,} bytes) {tp['static']['rps']:,.0f} req/s = {tp['ratio']:.3f}x "
        f"(target >= 0.7) {verdict(checks, '/ rps vs static file')}  "
        f"[{tp['generator']}, {settings['load_seconds']} s{f', {errors} errors' if errors else ''}]"
    )
    seeding = report["demo"]["seeding_seconds"]
    seeded = "already seeded" if seeding is None else f"seeded in {seeding:.1f} s (target < 120)"
    print(
        f"\nTimes in ms, in-process through config.wsgi.application (DEBUG off), n={settings['requests']} per column unless "
        f"cut by the {settings['max_series_seconds']:g} s cap; SQL c/w: queries cold/warm. Demo data {seeded}.\n"
        f"{sum(check['pass'] for check in checks)}/{len(checks)} targets met."
    )


def save(report, kind=""):
    """benchmarks/results/[kind-]latest.json, and a copy named after the run's time."""
    prefix = f"{kind}-" if kind else ""
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2) + "\n"
    stamp = report["finished_at"].replace(":", "").replace("-", "")[:15]
    (RESULTS / f"{prefix}{stamp}.json").write_text(text)
    (RESULTS / f"{prefix}latest.json").write_text(text)
    print(f"Figures written to {RESULTS.relative_to(ROOT)}/{prefix}latest.json and {prefix}{stamp}.json")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", type=int, default=50, help="timed requests per page and mode (default 50)"
    )
    parser.add_argument(
        "--max-series-seconds", type=float, default=240, help="cap on one page's cold or warm series"
    )
    parser.add_argument("--load-seconds", type=int, default=10, help="duration of each load-generator run")
    parser.add_argument("--csv-probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    configure_environment()
    if args.csv_probe:
        return csv_probe()

    ensure_database()
    manage("migrate", "--noinput", "-v", "0")
    manage("load_geography", "-v", "0")
    manage("load_population", "-v", "0")
    import django

    django.setup()
    from django.db import connection

    seeding_seconds = ensure_demo_data()
    with connection.cursor() as cursor:
        # Statistics and visibility map as autovacuum would leave them, not as bulk_create did: without the
        # visibility map, PostgreSQL cannot answer from an index alone (the home page's aggregates do).
        cursor.execute("VACUUM ANALYZE")
    client = WsgiClient()
    pages, home_body = [], None
    for label, url in bench_urls():
        print(f"Measuring {url} ...", flush=True)
        row, body = measure_page(client, url, args.requests, args.max_series_seconds)
        pages.append({"label": label, **row})
        home_body = home_body or body
    print("Streaming /resolutions.csv in a fresh process ...", flush=True)
    csv = measure_csv()
    print("Load test: gunicorn with 2 workers ...", flush=True)
    throughput = measure_throughput(home_body, args.load_seconds)
    report = {
        "finished_at": datetime.datetime.now().isoformat(timespec="seconds"),
        "settings": {
            "requests": args.requests,
            "max_series_seconds": args.max_series_seconds,
            "load_seconds": args.load_seconds,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "postgresql": connection.pg_version,
        },
        "demo": {**DEMO, "seeding_seconds": seeding_seconds},
        "pages": pages,
        "csv": csv,
        "throughput": throughput,
    }
    report["targets"] = targets(pages, csv, throughput, seeding_seconds)
    print_table(report)
    save(report)


if __name__ == "__main__":
    main()
