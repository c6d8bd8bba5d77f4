"""gunicorn settings for `make serve` and production (`gunicorn -c gunicorn.conf.py config.wsgi`).

Every value can be overridden from the environment, so one file serves a laptop
and a server.
"""

import multiprocessing
import os
import re
import sys

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: the pages are CPU-bound template work on cached data; 2 per core is gunicorn's advice.
workers = int(os.environ.get("GUNICORN_WORKERS", str(max(2, multiprocessing.cpu_count() * 2))))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak can never take the site down.
max_requests = 20000
max_requests_jitter = 2000
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Behind nginx or a load balancer that sets X-Forwarded-Proto.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")


# gunicorn's control socket (for gunicornc) defaults to one path per user (~/.gunicorn/gunicorn.ctl): a second
# gunicorn on the machine (a load test beside `make serve`) would delete the first one's and take its place.
# GUNICORN_CONTROL_SOCKET names a path, or `off` for none; otherwise each server gets its own (on_starting).
_chosen_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
if _chosen_socket.lower() in ("off", "none", "no", "0"):
    control_socket_disable = True
elif _chosen_socket:
    control_socket = _chosen_socket


def on_starting(server):
    """Name the control socket after the addresses this server binds, unless a path was chosen.

    Here rather than above so that a bind given on the command line (-b) counts too.
    """
    cfg = server.cfg
    if cfg.control_socket_disable or cfg.control_socket != cfg.settings["control_socket"].default:
        return
    name = re.sub(r"[^A-Za-z0-9.]+", "-", "_".join(cfg.bind)).strip("-")
    cfg.set("control_socket", os.path.join(os.path.dirname(cfg.control_socket), f"gunicorn-{name}.ctl"))


def post_worker_init(worker):
    """Compile the site's templates and URL lookups when the application served is the site's
    (config/wsgi.py), then put what the worker has imported (Django, the app's modules and their data)
    out of the garbage collector's reach, once what is already garbage is collected. A full collection
    otherwise walks ~130,000 objects that live as long as the worker: about 130 ms on the bench machine,
    a stall in whichever request it falls in."""
    site = sys.modules.get("config.wsgi")  # loaded by now, when it is the application
    if site is not None:
        site.prepare()
    _collect_and_freeze()


# The first requests of each kind build what then lives as long as the worker (compiled templates, URL
# patterns, cached lookups): about 40,000 objects after one request of a county layer, whose full
# collections then took 20 to 25 ms, one request in twenty, against 5 ms with them frozen too.
# The price, four times per worker: the request just answered is still referenced here, so whatever of it
# forms a cycle (a DRF response does) is frozen with the rest and never freed, until the worker is
# recycled (max_requests); and a response whose end is the connection closing (HTTP/1.0 streaming) ends
# after the collection (tens of milliseconds) rather than before it.
FREEZE_AFTER_REQUESTS = {1, 10, 100, 1000}


def post_request(worker, req, environ, resp):
    """Freeze again after a worker's 1st, 10th, 100th and 1000th request, once its answer is written."""
    if worker.nr in FREEZE_AFTER_REQUESTS:
        _collect_and_freeze()


def _collect_and_freeze():
    import gc

    gc.collect()
    gc.freeze()
