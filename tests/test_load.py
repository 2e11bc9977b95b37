"""The load script's short form: a few simulated users for half a minute against a real
`ihl serve` with an `ihl worker` (SQLite; PostgreSQL and Redis when IHL_TEST_DATABASE_URL is
set). It must pass its own checks — every acknowledged write in the database exactly once, the
audit chain whole, `ihl verify` clean, no 5xx. Its latency figures are printed into the log, not
asserted (the long form's targets are measured by hand on a quiet machine)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("IHL_TEST_DATABASE_URL", "")
SHORT_FORM = ["--users", "8", "--duration", "30", "--think", "1", "--checks-only"]


@pytest.mark.slow
def test_the_short_load_run_passes_its_checks(capsys):
    command = [sys.executable, str(ROOT / "bench" / "load.py"), *SHORT_FORM]
    if PG_URL:  # a temporary database on the same server, dropped afterwards
        command += ["--postgres", PG_URL]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    with capsys.disabled():  # the figures belong in the CI log
        print(f"\n$ {' '.join(command[1:])}\n{done.stdout}{done.stderr}", file=sys.stderr)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert re.search(r"^all page views\s+\d+", done.stdout, re.M)
    assert re.search(r"^all requests\s+\d+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+", done.stdout, re.M)
    assert "ihl verify: exit 0" in done.stdout
    assert "every acknowledged write is in the database exactly once" in done.stdout
