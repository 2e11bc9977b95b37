"""What the benchmark scripts share: a temporary PostgreSQL database next to a given one, and a
measurement run in a fresh process of the script."""

import json
import subprocess
import sys


def postgres_database(url: str, name: str, create: bool) -> str:
    """Create (or drop) database `name` on the server of `url`; return its URL."""
    import sqlalchemy as sa

    from ihl_docs.core.db import make_engine

    engine = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if create:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        else:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()
    return url.rsplit("/", 1)[0] + "/" + name


def run_child(script: str, args: list[str]) -> dict:
    """Run `script --child ARGS` in a fresh Python process; its last line of output, as JSON.
    A failure is a RuntimeError carrying the child's last line of error output."""
    result = subprocess.run([sys.executable, script, "--child", *args], capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip().splitlines()[-1] if result.stderr else "failed")
    return json.loads(result.stdout.strip().splitlines()[-1])
