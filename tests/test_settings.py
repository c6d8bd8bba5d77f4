"""Settings come from the environment, with safe defaults."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_secret_key_is_a_clear_error_not_a_traceback():
    result = run_manage("check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_debug_is_off_unless_set():
    result = run_manage(
        "shell", "-c", "from django.conf import settings; print(settings.DEBUG)", DJANGO_SECRET_KEY="x"
    )
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_debug_run_needs_no_secret_key():
    result = run_manage(
        "shell", "-c", "from django.conf import settings; print(settings.DEBUG)", DJANGO_DEBUG="1"
    )
    assert result.stdout.strip().splitlines()[-1] == "True"


def test_database_url_selects_the_engine():
    code = "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"
    result = run_manage(
        "shell", "-c", code, DJANGO_SECRET_KEY="x", DATABASE_URL="postgres://u@127.0.0.1:5432/somewhere"
    )
    assert result.stdout.strip().splitlines()[-1] == "django.db.backends.postgresql"


def test_client_address_header_comes_from_the_environment():
    code = "from django.conf import settings; print(repr(settings.CLIENT_IP_HEADER))"
    unset = run_manage("shell", "-c", code, DJANGO_SECRET_KEY="x")
    proxied = run_manage("shell", "-c", code, DJANGO_SECRET_KEY="x", DJANGO_CLIENT_IP_HEADER="X-Real-IP")
    assert unset.stdout.strip().splitlines()[-1] == "''"
    assert proxied.stdout.strip().splitlines()[-1] == "'X-Real-IP'"
