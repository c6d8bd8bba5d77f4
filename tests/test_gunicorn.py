"""gunicorn.conf.py: two servers on one machine each keep a control socket of their own, or none.

Real gunicorn masters (one worker each, on free ports) serve the tiny `hello`
application below; their control sockets go to a temporary runtime directory,
never the user's own.
"""

import gc
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LISTENING = re.compile(r"Control socket listening at (\S+)")


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


def frozen(environ, start_response):
    """How many objects the garbage collector leaves alone in this worker."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(gc.get_freeze_count()).encode()]


KEPT = []  # what `keeper` keeps: objects a request builds that live as long as the worker


def keeper(environ, start_response):
    """As `frozen`, keeping 5,000 new objects on every request, as a first request's templates stay."""
    KEPT.extend([n] for n in range(5000))  # lists: the collector tracks every one (not so small dicts)
    return frozen(environ, start_response)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`gunicorn -c gunicorn.conf.py tests.test_gunicorn:hello`; its log lines arrive on a queue."""

    def __init__(self, runtime_dir, app="hello", module="tests.test_gunicorn", **env):
        self.port = free_port()
        environment = {
            **os.environ,
            "XDG_RUNTIME_DIR": str(runtime_dir),
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": "1",
            "GUNICORN_LOG_LEVEL": "info",
            "GUNICORN_ACCESS_LOG": "/dev/null",
            **env,
        }
        argv = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", f"{module}:{app}"]
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=environment, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stderr:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, pattern, timeout=30):
        """The first log line matching `pattern` (a match object); fails if the server stops first."""
        while True:
            line = self.lines.get(timeout=timeout)
            assert line is not None, f"gunicorn stopped (exit code {self.process.poll()})"
            found = pattern.search(line)
            if found:
                return found

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture
def servers(tmp_path):
    started = []

    def start(app="hello", **env):
        server = Server(tmp_path, app, **env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def test_two_servers_have_two_control_sockets(servers, tmp_path):
    first, second = servers(), servers()
    first_socket = Path(first.wait_for(LISTENING).group(1))
    second_socket = Path(second.wait_for(LISTENING).group(1))
    assert first_socket != second_socket
    assert first_socket.parent == second_socket.parent == tmp_path  # the runtime directory, not ~/.gunicorn
    assert str(first.port) in first_socket.name and str(second.port) in second_socket.name
    assert first_socket.is_socket() and second_socket.is_socket()  # the second took nothing from the first


def test_a_chosen_path_or_none(tmp_path):
    chosen = tmp_path / "chosen.ctl"

    def printed(**env):
        environment = {**os.environ, "XDG_RUNTIME_DIR": str(tmp_path), **env}
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "gunicorn.conf.py",
            "--print-config",
            "tests.test_gunicorn:hello",
        ]
        output = subprocess.run(argv, cwd=ROOT, env=environment, capture_output=True, text=True, check=True)
        return dict(re.findall(r"^(control_socket\w*)\s*=\s*(.*)$", output.stdout, re.MULTILINE))

    assert printed(GUNICORN_CONTROL_SOCKET="off")["control_socket_disable"] == "True"
    named = printed(GUNICORN_CONTROL_SOCKET=str(chosen))
    assert named["control_socket"] == str(chosen) and named["control_socket_disable"] == "False"


def test_a_worker_freezes_what_it_loaded(servers):
    """The objects loaded before the first request are out of the collector's full passes."""
    server = servers("frozen", GUNICORN_CONTROL_SOCKET="off")
    server.wait_for(re.compile(r"Listening at"))  # bound: a request waits in the backlog for the worker
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/", timeout=30) as answer:
        assert int(answer.read()) > 1000


def test_a_worker_freezes_again_what_its_first_request_kept(servers):
    """What a worker's first request builds and keeps is frozen after it; the second's waits for the tenth."""
    server = servers("keeper", GUNICORN_CONTROL_SOCKET="off")
    server.wait_for(re.compile(r"Listening at"))

    def frozen_count():
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/", timeout=30) as answer:
            return int(answer.read())

    first, second, third = frozen_count(), frozen_count(), frozen_count()
    assert second >= first + 5000  # the first request's 5,000 kept objects, frozen once it was answered
    assert third == second  # nothing frozen after the second request


def test_a_worker_of_the_site_compiles_its_templates_before_its_first_request(servers):
    """The first page of each kind a fresh or recycled worker drew paid for compiling its templates; now
    the worker compiles them all as it starts. A worker of another application (the ones above) does not."""
    templates = ROOT / "templates"
    files = [path for path in templates.rglob("*") if path.is_file()]
    server = servers("compiled", module="tests.site_worker", GUNICORN_CONTROL_SOCKET="off")
    server.wait_for(re.compile(r"Listening at"))
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/", timeout=60) as answer:
        assert int(answer.read()) >= len(files)
