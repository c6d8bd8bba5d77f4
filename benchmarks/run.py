"""Performance at scale: `make bench` (or `python benchmarks/run.py`). A script, never part of the tests.

Against PostgreSQL (BENCH_DATABASE_URL) holding 100,000 demo resolutions and 20,000 demo places, it
measures each public page as a visitor meets it: through gunicorn (2 workers, the Redis cache) with an
HTTP client, time to the last byte, cold (the cache emptied and a new data version, as after a
publish, before each request) and warm; twenty different searches, cold; the full CSV export
through gunicorn (rows per second, the worker's peak memory growth); and `/` under load against a
static file of the same size. Queries per page are counted in-process. It prints one table with the
targets and a verdict, writes the figures to benchmarks/results/, and exits 0 whatever the figures
are. See benchmarks/README.md.
"""

import argparse
import datetime
import gzip
import json
import math
import os
import re
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
        # No warming while pages are measured cold: no worker runs then, and each new version would only
        # queue a task. benchmarks/warm.py turns it on for its own run.
        DJANGO_WARM_PAGES="0",
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


def machine_speed():
    """Milliseconds for a fixed piece of pure Python (ten million additions), the best of three: how fast
    this machine is, to compare runs made on different machines (the same code, a different machine, can
    be twice as slow)."""
    best = math.inf
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for i in range(10_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return best * MS


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
        ("api", "/api/resolutions/?state=TX"),
    ]


# Twenty searches a journalist might type: the common words of every demo title first, then rarer ones,
# phrases, a negation, an alternative and a place name.
SEARCHES = [
    "first",
    "county",
    "city",
    "resolution",
    "dispatch",
    "first responders",
    "dispatchers",
    "telecommunicators",
    "911",
    "recognizing",
    "public safety",
    '"first responders"',
    "county -city",
    "ordinance or proclamation",
    "Harris",
    "Mobile County",
    "emergency communications",
    "week",
    "zzyzx",
    "resolution 2021",
]


class WsgiClient:
    """Requests through config/wsgi.py's application, in this process: for counting a page's queries.

    The page cache sits in front of Django there, so a warm visit runs the queries a visitor's would
    (none); Django's test client would bypass it.
    """

    def __init__(self):
        from io import BytesIO
        from wsgiref.util import setup_testing_defaults

        from config.wsgi import application

        self.application, self.bytes_io, self.defaults = application, BytesIO, setup_testing_defaults

    def forget(self):
        """A cold start: nothing cached, neither in the shared cache nor in this worker's memory."""
        make_cold()
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
        return answer["status"], body


def make_cold():
    """What a publish does to every cache: the shared cache emptied, and a new data version, which each
    gunicorn worker hears of (Redis announces it) before its next request, so its own copies are stale."""
    from django.core.cache import cache
    from django.db import transaction

    from recognition.versioning import bump_data_version

    cache.clear()
    with transaction.atomic():
        bump_data_version()


def query_counts(client, url):
    """(queries cold, queries warm, status, body) of one request each, in-process."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.forget()
    with CaptureQueriesContext(connection) as cold:
        status, body = client.get(url)
    with CaptureQueriesContext(connection) as warm:
        client.get(url)
    return len(cold), len(warm), status, body


class HttpClient:
    """GETs to gunicorn, a new connection each (its sync workers close every connection), read to the end."""

    def __init__(self, port):
        self.port = port

    def get(self, url, *, gzip_ok=True):
        """(seconds to the last byte, status, body bytes)."""
        started = time.perf_counter()
        connection = HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request("GET", url, headers={"Accept-Encoding": "gzip"} if gzip_ok else {})
            response = connection.getresponse()
            size = 0
            while chunk := response.read(65536):
                size += len(chunk)
            return time.perf_counter() - started, response.status, size
        finally:
            connection.close()


# Untimed requests before each series, made as the series' are (cold or warm): each worker's first drawing
# of a kind of page fills what it then keeps (escaped outlines, specialised bytecode; about 15 ms more on
# the bench machine), which a visitor after a publish does not wait for. Four, so that both workers take
# some: a single one reached one worker, and was often answered from the cache without drawing anything.
WARM_UP = 4


def timed_series(http, url, count, max_seconds, cold):
    """Seconds per request for up to `count` requests, stopping early after `max_seconds`."""
    times, deadline = [], time.monotonic() + max_seconds
    for _ in range(WARM_UP):
        if cold:
            make_cold()
        http.get(url)
    while len(times) < count and time.monotonic() < deadline:
        if cold:
            make_cold()
        seconds, _status, _size = http.get(url)
        times.append(seconds)
    return times


def series_figures(times):
    return {"n": len(times), "p50_ms": percentile(times, 0.5) * MS, "p95_ms": percentile(times, 0.95) * MS}


def measure_page(client, http, url, count, max_seconds):
    queries_cold, queries_warm, status, body = query_counts(client, url)
    row = {
        "url": url,
        "status": status,
        "queries_cold": queries_cold,
        "queries_warm": queries_warm,
        "bytes": len(body),
        "gzip_bytes": len(gzip.compress(body)),
    }
    for mode in ("cold", "warm"):
        row[mode] = series_figures(timed_series(http, url, count, max_seconds, cold=mode == "cold"))
    return row, body


def measure_searches(client, http, rounds, max_seconds):
    """Each search of SEARCHES cold, `rounds` times over: one series of every request."""
    from urllib.parse import urlencode

    urls = ["/resolutions/?" + urlencode({"q": words}) for words in SEARCHES]
    counts = [query_counts(client, url) for url in urls]
    times, slowest, deadline = [], {}, time.monotonic() + max_seconds
    for url in urls[:WARM_UP]:
        make_cold()
        http.get(url)
    for _round in range(rounds):
        for url in urls:
            if time.monotonic() > deadline:
                break
            make_cold()
            seconds, _status, _size = http.get(url)
            times.append(seconds)
            slowest[url] = max(slowest.get(url, 0), seconds)
    worst = sorted(slowest.items(), key=lambda item: -item[1])[:3]
    return {
        "label": "search",
        "url": f"/resolutions/?q=... ({len(urls)} searches)",
        "status": max(status for _c, _w, status, _b in counts),
        "queries_cold": max(cold for cold, _w, _s, _b in counts),
        "queries_warm": max(warm for _c, warm, _s, _b in counts),
        "bytes": max(len(body) for *_rest, body in counts),
        "gzip_bytes": max(len(gzip.compress(body)) for *_rest, body in counts),
        "cold": series_figures(times),
        "warm": {"n": 0, "p50_ms": 0.0, "p95_ms": 0.0},
        "slowest": [{"url": url, "ms": seconds * MS} for url, seconds in worst],
    }


# --- CSV export, through gunicorn -----------------------------------------------------------------------


def worker_peak_kb(server):
    """{pid: peak resident memory in kB} of gunicorn's workers (the master's children)."""
    peaks = {}
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    for pid in children.read_text().split() if children.exists() else []:
        status = Path(f"/proc/{pid}/status")
        if status.exists():
            found = re.search(r"VmHWM:\s+(\d+) kB", status.read_text())
            peaks[pid] = int(found.group(1)) if found else 0
    return peaks


def measure_csv(http, server, rounds=3):
    """Rows per second of the whole export (all published rows) read by an HTTP client, and how much
    a worker's peak memory grew while serving it."""
    # Imports and first queries, in every worker (whichever accepts): a worker's first request would
    # otherwise count its imports (~30 MB) as the export's growth.
    for _warm in range(4 * max(1, len(worker_peak_kb(server)))):
        http.get("/resolutions.csv?state=VT&kind=statute", gzip_ok=False)
    before = worker_peak_kb(server)
    runs = []
    for _round in range(rounds):
        started = time.perf_counter()
        connection = HTTPConnection("127.0.0.1", http.port, timeout=300)
        connection.request("GET", "/resolutions.csv")
        response = connection.getresponse()
        lines = 0
        while chunk := response.read(1 << 20):
            lines += chunk.count(b"\n")
        connection.close()
        runs.append({"rows": lines - 1, "seconds": time.perf_counter() - started})
    after = worker_peak_kb(server)
    growth = max([after[pid] - before.get(pid, after[pid]) for pid in after] or [0]) / 1024
    speeds = sorted(run["rows"] / run["seconds"] for run in runs)
    return {
        "rows": runs[0]["rows"],
        "seconds": min(run["seconds"] for run in runs),
        "rows_per_second": speeds[len(speeds) // 2],
        "rows_per_second_all": speeds,
        "rss_growth_mb": growth,
    }


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


# Page label: [(check name, mode, limit in ms)]: cold targets from "Cold is fast too", warm ones from before.
PAGE_LIMITS = {
    "home (states)": [("/ cold p95 ms", "cold", 60), ("/ warm p95 ms", "warm", 30)],
    "home (counties)": [("/?layer=counties cold p95 ms", "cold", 60)],
    "state": [("/states/tx/ cold p95 ms", "cold", 60), ("/states/tx/ warm p95 ms", "warm", 30)],
    "list": [("list cold p95 ms", "cold", 40), ("list warm p95 ms", "warm", 100)],
    "api": [("api cold p95 ms", "cold", 40), ("api warm p95 ms", "warm", 100)],
    "search": [("search cold p95 ms", "cold", 50)],
}
CSV_ROWS_PER_SECOND = 50_000
CSV_GROWTH_MB = 50


def targets(pages, csv, throughput, seeding_seconds, warming):
    """(name, value, limit, higher_is_better) for each target."""
    by_label = {page["label"]: page for page in pages}
    checks = [
        (name, by_label[label][mode]["p95_ms"], limit, False)
        for label, limits in PAGE_LIMITS.items()
        for name, mode, limit in limits
    ]
    checks += [
        ("CSV rows/s", csv["rows_per_second"], CSV_ROWS_PER_SECOND, True),
        ("CSV peak memory growth MB", csv["rss_growth_mb"], CSV_GROWTH_MB, False),
        ("/ rps vs static file", throughput["ratio"], 0.7, True),
    ]
    if warming is not None:
        checks.append(("cold share after publish %", warming["cold_share"] * 100, 0, False))
    if seeding_seconds is not None:
        checks.append(("seeding seconds", seeding_seconds, 120, False))
    return [
        {"name": name, "value": value, "limit": limit, "pass": value >= limit if higher else value <= limit}
        for name, value, limit, higher in checks
    ]


def verdict(checks, *names):
    found = [check for check in checks if check["name"] in names]
    return "" if not found else "PASS" if all(check["pass"] for check in found) else "MISS"


ROW = "{:<38} {:>6} {:>7} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9}  {:<22} {}"


def page_target(label):
    limits = PAGE_LIMITS.get(label, [])
    text = ", ".join(f"{mode} p95<={limit}" for _name, mode, limit in limits)
    return text, tuple(name for name, _mode, _limit in limits)


def print_table(report):
    pages, csv, tp, checks = report["pages"], report["csv"], report["throughput"], report["targets"]
    settings = report["settings"]
    header = ROW.format(
        "page", "status", "SQL c/w", "bytes", "gzip", "cold p50", "cold p95", "warm p50", "warm p95",
        "target (ms)", "result",
    )  # fmt: skip
    rule = "-" * len(header)
    print("\n" + header + "\n" + rule)
    for page in pages:
        target, names = page_target(page["label"])
        result = verdict(checks, *names) if page["status"] == 200 else f"ERROR {page['status']}"
        cut = [
            f"{mode} n={page[mode]['n']}"
            for mode in ("cold", "warm")
            if page[mode]["n"] and page[mode]["n"] < settings["requests"]
        ]
        times = [
            f"{page[mode][p]:.1f}" if page[mode]["n"] else "-"
            for mode in ("cold", "warm")
            for p in ("p50_ms", "p95_ms")
        ]
        queries = f"{page['queries_cold']}/{page['queries_warm']}"
        sizes = f"{page['bytes']:,}", f"{page['gzip_bytes']:,}"
        print(
            ROW.format(
                page["url"][:38], page["status"], queries, *sizes, *times, target, " ".join([result, *cut])
            )
        )
        for slow in page.get("slowest", []):
            print(f"    slowest: {slow['url']} {slow['ms']:.1f} ms")
    print(rule)
    speeds = ", ".join(f"{speed:,.0f}" for speed in csv["rows_per_second_all"])
    print(
        f"{'/resolutions.csv (all rows)':<38} {csv['rows']:,} rows through gunicorn: {csv['rows_per_second']:,.0f} "
        f"rows/s, median of {speeds} (target >= {CSV_ROWS_PER_SECOND:,}) {verdict(checks, 'CSV rows/s')}; "
        f"worker peak memory +{csv['rss_growth_mb']:.1f} MB (target <= {CSV_GROWTH_MB}) "
        f"{verdict(checks, 'CSV peak memory growth MB')}"
    )
    errors = tp["home"]["errors"] + tp["static"]["errors"]
    print(
        f"{'throughput, gunicorn -w 2':<38} / {tp['home']['rps']:,.1f} req/s vs static file "
        f"({tp['static']['bytes']:,} bytes) {tp['static']['rps']:,.0f} req/s = {tp['ratio']:.3f}x "
        f"(target >= 0.7) {verdict(checks, '/ rps vs static file')}  "
        f"[{tp['generator']}, {settings['load_seconds']} s{f', {errors} errors' if errors else ''}]"
    )
    warming = report.get("warming")
    if warming is not None:
        print(
            f"{'publish, then visitors':<38} {warming['summary']} "
            f"{verdict(checks, 'cold share after publish %')}"
        )
    seeding = report["demo"]["seeding_seconds"]
    seeded = "already seeded" if seeding is None else f"seeded in {seeding:.1f} s (target < 120)"
    print(
        f"\nTimes in ms to the last byte, through gunicorn ({settings['workers']} workers, Redis cache, DEBUG off) "
        f"with an HTTP client, n={settings['requests']} per column unless cut by the {settings['max_series_seconds']:g} s "
        f"cap; searches: {len(SEARCHES)} queries x {settings['search_rounds']} rounds, all cold. Cold: the cache "
        f"emptied and a new data version before each request. SQL c/w: queries cold/warm, counted in-process. "
        f"Demo data {seeded}.\nMachine: {report['machine']['cpus']} CPUs; ten million additions in pure Python took "
        f"{' ms, then '.join(f'{ms:,.0f}' for ms in report['machine']['python_loop_ms'])} ms (before and after the "
        f"run): the same code is as much slower as this is.\n"
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


def start_site(workers):
    """gunicorn with the project's settings on a free port: (server, port)."""
    from benchmarks import load

    port = free_port()
    log_path = Path(tempfile.mkdtemp(prefix="bench-gunicorn-")) / "gunicorn.log"
    server = load.start_gunicorn(port, workers, log_path)
    fetch(f"http://127.0.0.1:{port}/healthz", server)
    return server, port


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", type=int, default=50, help="timed requests per page and mode (default 50)"
    )
    parser.add_argument(
        "--max-series-seconds", type=float, default=120, help="cap on one page's cold or warm series"
    )
    parser.add_argument("--search-rounds", type=int, default=3, help="times each of the 20 searches is timed")
    parser.add_argument("--load-seconds", type=int, default=10, help="duration of each load-generator run")
    parser.add_argument("--skip-warming", action="store_true", help="leave out the publish-then-browse run")
    args = parser.parse_args()
    configure_environment()
    sys.path.insert(0, str(ROOT / "benchmarks"))

    ensure_database()
    manage("migrate", "--noinput", "-v", "0")
    manage("load_geography", "-v", "0")
    manage("load_population", "-v", "0")
    import django

    django.setup()
    from django.db import connection

    from benchmarks import load

    seeding_seconds = ensure_demo_data()
    speed_before = machine_speed()
    with connection.cursor() as cursor:
        # Statistics and visibility map as autovacuum would leave them, not as bulk_create did: without the
        # visibility map, PostgreSQL cannot answer from an index alone.
        cursor.execute("VACUUM ANALYZE")
    client = WsgiClient()
    workers = 2
    server, port = start_site(workers)
    http = HttpClient(port)
    pages, home_body = [], None
    try:
        for label, url in bench_urls():
            print(f"Measuring {url} ...", flush=True)
            row, body = measure_page(client, http, url, args.requests, args.max_series_seconds)
            pages.append({"label": label, **row})
            home_body = home_body or body
        print(f"Measuring {len(SEARCHES)} searches, cold ...", flush=True)
        pages.append(measure_searches(client, http, args.search_rounds, args.max_series_seconds))
        print("Streaming /resolutions.csv through gunicorn ...", flush=True)
        csv = measure_csv(http, server)
    finally:
        load.stop_gunicorn(server)
    warming = None
    if not args.skip_warming:
        print("Publishing, then browsing as visitors would ...", flush=True)
        warming = measure_warming()
    print("Load test: gunicorn with 2 workers ...", flush=True)
    throughput = measure_throughput(home_body, args.load_seconds)
    report = {
        "finished_at": datetime.datetime.now().isoformat(timespec="seconds"),
        "settings": {
            "requests": args.requests,
            "max_series_seconds": args.max_series_seconds,
            "search_rounds": args.search_rounds,
            "load_seconds": args.load_seconds,
            "workers": workers,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "postgresql": connection.pg_version,
            "load_average": os.getloadavg(),
            "python_loop_ms": [speed_before, machine_speed()],
        },
        "demo": {**DEMO, "seeding_seconds": seeding_seconds},
        "pages": pages,
        "csv": csv,
        "warming": warming,
        "throughput": throughput,
    }
    report["targets"] = targets(pages, csv, throughput, seeding_seconds, warming)
    print_table(report)
    save(report)


def measure_warming():
    """The share of visitors' requests served cold after publishes (benchmarks/warm.py), or None when it
    failed. A process of its own: this one has Django set up, and warm.py sets up its own gunicorn and worker."""
    from benchmarks import warm

    result = subprocess.run(
        [sys.executable, "benchmarks/warm.py", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith(warm.JSON_MARK)]
    if result.returncode != 0 or not lines:
        print(f"The publish-then-browse run failed:\n{result.stderr[-3000:]}", flush=True)
        return None
    return json.loads(lines[-1][len(warm.JSON_MARK) :])


if __name__ == "__main__":
    main()
