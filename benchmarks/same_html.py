"""Do two revisions render the same public pages? A check for refactors that must change nothing visible.

    .venv/bin/python benchmarks/same_html.py BASE [OTHER]

BASE and OTHER are git revisions (OTHER defaults to the working tree). Each is checked out
into a temporary worktree (the working tree is used as it is), given a fresh SQLite
database with the reference geography, the census figures and this checkout's starter
dataset, and asked for the pages below through Django's test client. The HTML is compared
byte for byte, but for the data version (random per database) in addresses; the first lines
that differ are printed. Exit status 1 when any page differs.
Not part of the test suite: it takes about a minute and compares code, not behaviour.
"""

import argparse
import difflib
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["/", "/?layer=counties", "/states/al/", "/states/ga/", "/states/al/mobile-county/", "/resolutions/"]
STARTER = ROOT / "recognition" / "data" / "starter_dataset.csv"
# Each database gets a data version of its own (random): the image and ETag addresses that carry it are
# compared without it.
VERSION = re.compile(r"\bv=[0-9a-f]{12}\b")

# Run inside each checkout: load the data, then print every page, each after a separator line.
RENDER = """
import os, sys
import django
django.setup()
from django.core.management import call_command
from django.test import Client
for command, *args in (("migrate",), ("load_geography",), ("load_population",), ("import_resolutions", sys.argv[1])):
    call_command(command, *args, verbosity=0)
client = Client(HTTP_HOST="127.0.0.1")
for path in sys.argv[2:]:
    response = client.get(path)
    sys.stdout.write(f"\\n===PAGE {path} {response.status_code}===\\n")
    sys.stdout.write(response.content.decode())
"""


def render(checkout, workdir):
    database = Path(workdir) / "pages.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    env.pop("REDIS_URL", None)  # the per-process memory cache: nothing shared between the two runs
    result = subprocess.run(
        [sys.executable, "-c", RENDER, str(STARTER), *PAGES],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    pages, current = {}, None
    for line in result.stdout.splitlines(keepends=True):
        if line.startswith("===PAGE "):
            current = line.strip("=\n").removeprefix("PAGE ")
            pages[current] = ""
        elif current is not None:
            pages[current] += VERSION.sub("v=VERSION", line)
    return pages


def checkout(revision, into):
    subprocess.run(["git", "worktree", "add", "--detach", into, revision], cwd=ROOT, check=True,
                   capture_output=True)  # fmt: skip
    return into


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("base")
    parser.add_argument("other", nargs="?")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        trees = []
        try:
            base = checkout(args.base, f"{temp}/base")
            trees.append(base)
            other = checkout(args.other, f"{temp}/other") if args.other else str(ROOT)
            if args.other:
                trees.append(other)
            os.makedirs(f"{temp}/a"), os.makedirs(f"{temp}/b")
            before, after = render(base, f"{temp}/a"), render(other, f"{temp}/b")
        finally:
            for tree in trees:
                subprocess.run(["git", "worktree", "remove", "--force", tree], cwd=ROOT, capture_output=True)
    differ = 0
    for page in PAGES:
        a, b = before.get(_key(before, page)), after.get(_key(after, page))
        if a == b:
            print(f"same       {page} ({len(a or ''):,} bytes)")
            continue
        differ += 1
        print(f"DIFFERENT  {page}")
        diff = difflib.unified_diff(
            (a or "").splitlines(), (b or "").splitlines(), args.base, "other", lineterm="", n=0
        )
        for line in list(diff)[:12]:
            print("    " + line[:200])
    print(f"{len(PAGES) - differ} of {len(PAGES)} pages byte-identical")
    return 1 if differ else 0


def _key(pages, path):
    return next((key for key in pages if key.split(" ")[0] == path), None)


if __name__ == "__main__":
    sys.exit(main())
