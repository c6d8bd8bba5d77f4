"""Fault run: `make fault` (or `python benchmarks/fault.py`). How fast the site answers 503 when PostgreSQL hangs.

A listener on 127.0.0.1 that the script starts stands in for a hung PostgreSQL: the kernel completes TCP
handshakes, but nothing is ever accepted or answered, so every connection waits the whole connect timeout
(DJANGO_DB_CONNECT_TIMEOUT, 3 s). gunicorn (gunicorn.conf.py, --workers sync workers, DEBUG off, per-process
memory cache, no access log) is pointed at it. First a warm-up: as many concurrent requests as there are
workers, twice over, so that every worker meets its first failure (these wait the connect timeout by design).
Then --connections clients (16) request a mix of pages that all need the database, for --seconds (20), each
request on a new connection. Every answer is recorded; the figures (count, requests per second, p50, p90,
p99 and max latency) are those of the measured phase, all after the first failure. Target: p99 under 1 s.

Exits non-zero when an answer is anything but a 503 with Retry-After, or a request fails at the socket. The
figures go to benchmarks/results/fault-latest.json and a timestamped copy. The server and the listener are
on 127.0.0.1 only, and both are stopped whatever happens.
"""

import argparse
import contextlib
import datetime
import http.client
import os
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import run as bench  # noqa: E402  (where figures are saved)
from benchmarks.load import spawn_gunicorn, stop_gunicorn  # noqa: E402  (one way to run and stop a server)

PATHS = [
    "/",
    "/states/tx/",
    "/resolutions/?state=TX",
    "/resolutions/?q=dispatchers",
    "/api/resolutions/?state=AL",
    "/resolutions.csv?state=AL",
    "/feeds/resolutions/",
]
TARGET_P99_SECONDS = 1.0
REQUEST_TIMEOUT_SECONDS = 30
CONNECT_TIMEOUT_SECONDS = 3


class HungListener:
    """A TCP port that listens and never accepts: connections complete and then hear nothing, ever."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(1024)
        self.port = self.socket.getsockname()[1]

    def close(self):
        self.socket.close()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(database_port, server_port, workers):
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("REDIS_URL", "DJANGO_DEBUG")  # this run is about the database alone
    }
    environment.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{database_port}/tracker_fault",
        DJANGO_DB_CONNECT_TIMEOUT=str(CONNECT_TIMEOUT_SECONDS),
        DJANGO_SECRET_KEY="fault-run-only-secret-key-not-for-production",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="config.settings",
        GUNICORN_BIND=f"127.0.0.1:{server_port}",
        GUNICORN_WORKERS=str(workers),
        GUNICORN_ACCESS_LOG="/dev/null",
        GUNICORN_LOG_LEVEL="warning",
        GUNICORN_CONTROL_SOCKET="off",  # nothing to manage, and no file left behind
    )
    return environment


def wait_until_listening(port, server, timeout=60):
    """Wait for gunicorn's port to accept a TCP connection (no HTTP request: that would meet the database)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start (exit code {server.poll()})") from None
            time.sleep(0.1)


def one_request(port, path):
    """(started, finished, status or None, has Retry-After, error text) of one GET on a new connection."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_SECONDS)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return started, time.monotonic(), response.status, response.getheader("Retry-After") is not None, ""
    except (OSError, http.client.HTTPException) as error:
        return started, time.monotonic(), None, False, f"{type(error).__name__}: {error}"
    finally:
        connection.close()


def concurrently(port, count, paths):
    """`count` requests at once (one thread each); their records."""
    records = [None] * count

    def run(index):
        records[index] = one_request(port, paths[index % len(paths)])

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return records


def load(port, connections, seconds, paths):
    """`connections` clients, each sending one request after another for `seconds`; all records."""
    stop_at = time.monotonic() + seconds
    records, lock = [], threading.Lock()

    def client(offset):
        counter = offset
        while time.monotonic() < stop_at:
            record = one_request(port, paths[counter % len(paths)])
            counter += 1
            with lock:
                records.append(record)

    threads = [threading.Thread(target=client, args=(index,)) for index in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return records


def percentile(values, share):
    """Nearest-rank percentile of sorted `values`."""
    if not values:
        return 0.0
    rank = max(1, int(-(-share * len(values) // 1)))
    return values[min(rank, len(values)) - 1]


def latency_figures(records):
    times = sorted(finished - started for started, finished, *_ in records)
    return {
        "count": len(times),
        "p50_ms": percentile(times, 0.50) * 1000,
        "p90_ms": percentile(times, 0.90) * 1000,
        "p99_ms": percentile(times, 0.99) * 1000,
        "max_ms": (times[-1] if times else 0.0) * 1000,
        "over_target": sum(1 for t in times if t >= TARGET_P99_SECONDS),  # the probes, mostly
    }


def summary(records, seconds):
    unavailable = [r for r in records if r[2] == 503]
    statuses = {}
    for _started, _finished, status, _retry, _error in records:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {
        "requests": len(records),
        "requests_per_second": len(records) / seconds if seconds else 0.0,
        "statuses": statuses,
        "503": latency_figures(unavailable),
        "503_without_retry_after": sum(1 for r in unavailable if not r[3]),
        "socket_errors": sorted({r[4] for r in records if r[4]})[:5],
        "socket_error_count": sum(1 for r in records if r[4]),
    }


def log_counts(log_path):
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    return {
        "database_unreachable_lines": text.count("Database unreachable"),
        "reachable_again_lines": text.count("Database reachable again."),
        "tracebacks": text.count("Traceback"),
    }


def print_report(report):
    settings, measured, warm = report["settings"], report["measured"], report["warm_up"]
    figures = measured["503"]
    print(
        f"\nFault: PostgreSQL hung (a listener that never answers), gunicorn with {settings['gunicorn_workers']} "
        f"sync workers, connect timeout {settings['connect_timeout_seconds']} s\n"
        f"  warm-up: {warm['requests']} concurrent requests, statuses {warm['statuses']}, "
        f"max {warm['503']['max_ms']:.0f} ms (the first failure of each worker waits the connect timeout)\n"
        f"  measured: {settings['connections']} connections for {settings['seconds']} s, "
        f"{measured['requests']:,} requests ({measured['requests_per_second']:,.0f}/s), statuses {measured['statuses']}\n"
        f"  503s: {figures['count']:,}, p50 {figures['p50_ms']:.1f} ms, p90 {figures['p90_ms']:.1f} ms, "
        f"p99 {figures['p99_ms']:.1f} ms, max {figures['max_ms']:.1f} ms, "
        f"{figures['over_target']} over {TARGET_P99_SECONDS:g} s (probes of the hung server); "
        f"without Retry-After: {measured['503_without_retry_after']}; socket errors: {measured['socket_error_count']}\n"
        f"  log: {report['log']['database_unreachable_lines']} 'Database unreachable' lines, "
        f"{report['log']['reachable_again_lines']} 'reachable again', {report['log']['tracebacks']} tracebacks\n"
        f"  target p99 < {TARGET_P99_SECONDS * 1000:.0f} ms: {'PASS' if report['target_met'] else 'MISS'}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20, help="duration of the measured load (default 20)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    args = parser.parse_args()
    if not 1 <= args.seconds <= 600 or not 1 <= args.connections <= 256 or not 1 <= args.workers <= 32:
        parser.error("--seconds must be 1..600, --connections 1..256, --workers 1..32")
    # A stop request (SIGTERM, as from CI's timeout) unwinds like Ctrl-C, through the `finally` below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    workdir = Path(tempfile.mkdtemp(prefix="fault-"))
    log_path = workdir / "gunicorn.log"
    listener = HungListener()
    port = free_port()
    server = spawn_gunicorn(server_environment(listener.port, port, args.workers), log_path)
    try:
        wait_until_listening(port, server)
        print(
            f"Database: 127.0.0.1:{listener.port} (hung). Warm-up: {2 * args.workers} concurrent requests ...",
            flush=True,
        )
        warm_started = time.monotonic()
        warm = concurrently(port, 2 * args.workers, PATHS)
        warm_seconds = time.monotonic() - warm_started
        print(f"Loading http://127.0.0.1:{port} for {args.seconds} s with {args.connections} connections ...")
        measured_started = time.monotonic()
        measured = load(port, args.connections, args.seconds, PATHS)
        measured_seconds = time.monotonic() - measured_started
    finally:
        stop_gunicorn(server)
        listener.close()
    report = {
        "finished_at": datetime.datetime.now().isoformat(timespec="seconds"),
        "settings": {
            "seconds": args.seconds,
            "connections": args.connections,
            "gunicorn_workers": args.workers,
            "connect_timeout_seconds": CONNECT_TIMEOUT_SECONDS,
            "generator": "python threads, a new connection per request",
        },
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "urls": PATHS,
        "warm_up": summary(warm, warm_seconds),
        "measured": summary(measured, measured_seconds),
        "log": log_counts(log_path),
    }
    figures = report["measured"]
    report["target_met"] = (
        figures["503"]["count"] > 0 and figures["503"]["p99_ms"] < TARGET_P99_SECONDS * 1000
    )
    print_report(report)
    bench.save(report, "fault")
    wrong = sum(n for status, n in figures["statuses"].items() if status != "503")
    wrong += sum(n for status, n in report["warm_up"]["statuses"].items() if status != "503")
    if wrong or figures["503_without_retry_after"]:
        print(
            f"\nFAIL: {wrong} answers other than 503, {figures['503_without_retry_after']} without Retry-After."
        )
        print(f"--- gunicorn log (last lines) ---\n{tail(log_path)}")
        return 1
    with contextlib.suppress(OSError):
        log_path.unlink()
        workdir.rmdir()
    return 0


def tail(path, lines=40):
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


if __name__ == "__main__":
    sys.exit(main())
