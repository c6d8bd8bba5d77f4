"""Load test: `make load` (or `python benchmarks/load.py`). Exits non-zero when any request got an error answer.

gunicorn (gunicorn.conf.py with 2 workers and no access log) serves the site from PostgreSQL
(LOAD_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/tracker_load: created if missing, migrated,
loaded with the reference geography and the starter dataset) with the Redis cache (LOAD_REDIS_URL, default
redis://127.0.0.1:6379/2, emptied first), DEBUG off. wrk sends a mix of public URLs for --seconds (30) over
--connections (32). The figures (requests per second, p50 and p99 latency, error answers) are printed and
written to benchmarks/results/load-latest.json and a timestamped copy. An error is an answer other than
2xx/3xx, or a socket error (connect, read, write, timeout). The server is on 127.0.0.1 only, and is stopped
whatever happens. When the database holds `make bench`'s demo data, it is used as it is.
"""

import argparse
import contextlib
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import run as bench  # noqa: E402  (the benchmark's helpers: database, manage, port, fetch)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/tracker_load"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/2"
STARTER_DATASET = "recognition/data/starter_dataset.csv"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}
WRK_TIMEOUT_SECONDS = 10
STOP_SECONDS = 30  # gunicorn's graceful_timeout is 20
JSON_MARK = "LOAD_JSON "

# Each wrk thread walks the list in turn, so every URL gets the same share of the requests. done() prints
# the figures wrk's text output rounds (latency percentiles in microseconds, error counts by kind).
WRK_SCRIPT = """
local paths = {%(paths)s}
local counter = 0

request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter - 1) %% #paths + 1])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%(mark)s{"requests": %%d, "duration_us": %%d, "bytes": %%d, "connect": %%d, "read": %%d, "write": %%d, '
    .. '"status": %%d, "timeout": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, "max_us": %%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def configure_environment():
    """The benchmark's production-like environment, pointed at the load test's database and Redis."""
    bench.configure_environment()
    database_url = os.environ.get("LOAD_DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = os.environ.get("LOAD_REDIS_URL", DEFAULT_REDIS_URL)
    os.environ.update(DATABASE_URL=database_url, REDIS_URL=redis_url)
    for name, url in (("LOAD_DATABASE_URL", database_url), ("LOAD_REDIS_URL", redis_url)):
        if (urlsplit(url).hostname or "") not in LOCAL_HOSTS:
            sys.exit(f"{name}={url}: the load test runs against this machine only (127.0.0.1).")
    if not database_url.startswith(("postgres://", "postgresql://")):
        sys.exit(f"LOAD_DATABASE_URL={database_url}: the load test needs PostgreSQL.")


def prepare_redis():
    import redis

    url = os.environ["REDIS_URL"]
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        client.ping()
        client.flushdb()  # the load test's own database number: start with a cold cache, as after a deploy
    except redis.RedisError as error:
        sys.exit(f"Redis does not answer at {url} ({error}): start redis-server, or set LOAD_REDIS_URL.")


def prepare_database():
    """Create, migrate and load the database (idempotent: a second run only checks), then pick the URLs."""
    bench.ensure_database()
    bench.manage("migrate", "--noinput", "-v", "0")
    bench.manage("load_geography", "-v", "0")
    bench.manage("load_population", "-v", "0")
    import django

    django.setup()
    from django.db import connections

    from recognition.demo import DEMO_TITLE_PREFIX
    from recognition.models import Resolution

    if Resolution.objects.filter(title__startswith=DEMO_TITLE_PREFIX).exists():
        # `make bench`'s database: its demo data stays as it is (seed_demo refuses a database with real rows).
        print("Demo data found (the benchmark's database): using it as it is.")
    else:
        bench.manage("import_resolutions", STARTER_DATASET, "-v", "0")
    paths = load_paths()
    connections.close_all()  # gunicorn's workers open their own
    return paths


def load_paths():
    """The mix of public URLs; the county and the resolution are picked from the data."""
    from recognition.models import Jurisdiction, Level, Resolution

    published = Resolution.objects.published()
    resolution = published.order_by("pk").first()
    county = (
        Jurisdiction.objects.filter(level=Level.COUNTY, resolutions__in=published).order_by("pk").first()
        or Jurisdiction.objects.filter(level=Level.COUNTY).order_by("pk").first()
    )
    if resolution is None or county is None:
        sys.exit("The database has no published resolution or no county: cannot build the URL mix.")
    return [
        "/",
        "/?layer=counties",
        "/states/tx/",
        "/states/al/",
        county.get_absolute_url(),
        resolution.get_absolute_url(),
        "/resolutions/?state=TX",
        "/resolutions/?q=dispatchers",
        "/api/resolutions/?state=AL",
        "/api/states/",
        "/healthz",
        "/resolutions.csv?state=AL",
        "/places/?q=mobile",
        "/places/suggest/?q=mob",
        "/states/al/fact-sheet/",
        county.get_absolute_url() + "fact-sheet/",
        "/states/al/card.png",
        "/?as_of=2021-12-31",
        "/changes/",
        "/map.png",
    ]


def start_gunicorn(port, workers, log_path):
    env = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(workers),
        "GUNICORN_ACCESS_LOG": "/dev/null",  # quiet: tens of thousands of lines say nothing
        "GUNICORN_LOG_LEVEL": "warning",
        "GUNICORN_CONTROL_SOCKET": "off",  # nothing to manage; never another server's socket
    }
    return spawn_gunicorn(env, log_path)


def spawn_gunicorn(environment, log_path):
    """gunicorn with gunicorn.conf.py and `environment`, its output in `log_path`."""
    argv = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "config.wsgi"]
    with open(log_path, "wb") as log:
        # Its own process group, so that the workers can be stopped with it even if the master hangs.
        return subprocess.Popen(
            argv, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_gunicorn(server):
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)  # any worker left behind by a master that died


def preflight(base_url, paths, server):
    """One request per URL (which also warms the cache): (path, status) of those that do not answer 2xx/3xx."""
    failures = []
    for path in paths:
        status, _size = bench.fetch(base_url + path, server)
        if not 200 <= status < 400:
            failures.append((path, status))
    return failures


def run_wrk(base_url, paths, seconds, connections, threads, workdir):
    script = workdir / "mix.lua"
    script.write_text(
        WRK_SCRIPT % {"paths": ", ".join(json.dumps(path) for path in paths), "mark": JSON_MARK}
    )
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", f"--timeout={WRK_TIMEOUT_SECONDS}s"]
    argv += ["--latency", "-s", str(script), base_url]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed (exit code {result.returncode}):\n{result.stderr or result.stdout}")
    output = result.stdout
    figures = json.loads(
        next(line for line in output.splitlines() if line.startswith(JSON_MARK))[len(JSON_MARK) :]
    )
    # wrk's own summary lines, checked against the script's figures.
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    figures["non_2xx_3xx_text"] = int(non_2xx.group(1)) if non_2xx else 0
    figures["rps_text"] = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    return figures, output


def report_of(figures, args, paths, threads):
    socket_errors = {kind: figures[kind] for kind in ("connect", "read", "write", "timeout")}
    non_2xx_3xx = max(figures["status"], figures["non_2xx_3xx_text"])
    seconds = figures["duration_us"] / 1e6
    return {
        "finished_at": datetime.datetime.now().isoformat(timespec="seconds"),
        "settings": {
            "seconds": args.seconds,
            "connections": args.connections,
            "wrk_threads": threads,
            "gunicorn_workers": args.workers,
            "wrk_timeout_seconds": WRK_TIMEOUT_SECONDS,
        },
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "database": urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/"),
        "urls": paths,
        "requests": figures["requests"],
        "requests_per_second": figures["requests"] / seconds if seconds else 0.0,
        "latency_ms": {
            "p50": figures["p50_us"] / 1000,
            "p90": figures["p90_us"] / 1000,
            "p99": figures["p99_us"] / 1000,
            "max": figures["max_us"] / 1000,
        },
        "non_2xx_3xx": non_2xx_3xx,
        "socket_errors": socket_errors,
        "errors": non_2xx_3xx + sum(socket_errors.values()),
    }


def print_report(report):
    latency, sockets = report["latency_ms"], report["socket_errors"]
    settings = report["settings"]
    print(
        f"\nLoad: {len(report['urls'])} public URLs in turn, wrk -t{settings['wrk_threads']} "
        f"-c{settings['connections']} for {settings['seconds']} s against gunicorn with "
        f"{settings['gunicorn_workers']} workers (database {report['database']}, Redis cache, DEBUG off)\n"
        f"  {report['requests']:,} requests, {report['requests_per_second']:,.1f} requests/s\n"
        f"  latency p50 {latency['p50']:.1f} ms, p90 {latency['p90']:.1f} ms, p99 {latency['p99']:.1f} ms, "
        f"max {latency['max']:.1f} ms\n"
        f"  error answers: {report['non_2xx_3xx']} non-2xx/3xx; socket errors: connect {sockets['connect']}, "
        f"read {sockets['read']}, write {sockets['write']}, timeout {sockets['timeout']}"
    )


def tail(path, lines=40):
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=30, help="duration of the load (default 30)")
    parser.add_argument("--connections", type=int, default=32, help="open connections (default 32)")
    parser.add_argument(
        "--threads", type=int, default=2, help="wrk threads (default 2, at most --connections)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    args = parser.parse_args()
    if not 1 <= args.seconds <= 600 or not 1 <= args.connections <= 1000:
        parser.error("--seconds must be 1..600 and --connections 1..1000")
    threads = max(1, min(args.threads, args.connections))
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: install it (Debian: apt-get install -y wrk).")
    # A stop request (SIGTERM, as from CI's timeout) unwinds like Ctrl-C, through the `finally` below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    configure_environment()
    prepare_redis()
    print(f"Preparing {os.environ['DATABASE_URL']} ...", flush=True)
    paths = prepare_database()

    workdir = Path(tempfile.mkdtemp(prefix="load-"))
    log_path = workdir / "gunicorn.log"
    port = bench.free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = start_gunicorn(port, args.workers, log_path)
    try:
        failures = preflight(base_url, paths, server)
        if failures:
            listed = "\n".join(f"  {path}: {status}" for path, status in failures)
            print(
                f"These URLs do not answer 2xx/3xx; not loading:\n{listed}\n--- gunicorn log ---\n{tail(log_path)}"
            )
            return 1
        print(f"Loading {base_url} for {args.seconds} s with {args.connections} connections ...", flush=True)
        figures, wrk_output = run_wrk(base_url, paths, args.seconds, args.connections, threads, workdir)
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        print(f"{error}\n--- gunicorn log ---\n{tail(log_path)}")
        return 1
    finally:
        stop_gunicorn(server)
    report = report_of(figures, args, paths, threads)
    print_report(report)
    bench.save(report, "load")
    if report["errors"]:
        print(f"\nFAIL: {report['errors']} error answers.\n--- wrk ---\n{wrk_output}\n--- gunicorn log ---")
        print(tail(log_path))
        shutil.rmtree(workdir, ignore_errors=True)
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    print("OK: no error answers.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
