"""Running the application under gunicorn (the production WSGI server)."""

import threading
from pathlib import Path

from gunicorn.app.base import BaseApplication

BANNER_DELAY = 1.5  # seconds


class _Gunicorn(BaseApplication):
    def __init__(self, factory, options: dict):
        self.factory, self.options = factory, options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        app = self.factory()
        app.extensions["ihl_store"].clean_temporary()  # uploads cut off by a crash
        return app


def run_gunicorn(factory, host: str, port: int, workers: int,
                 address_file: Path | None = None, notices=list) -> None:
    """Serve the applications `factory` makes (one per worker process) with gunicorn. While it
    runs, `address_file` names the address it really listens on (other commands print it).
    Once it listens, it says where, then the lines `notices()` gives (last on the screen)."""
    _Gunicorn(factory, {
        **_address_hooks(address_file, notices),
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": 4,
        "timeout": 120,
        "accesslog": "-",
        # Paths only: query strings can hold search terms about witnesses.
        "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
    }).run()


def _address_hooks(address_file: Path | None, notices) -> dict:
    if address_file is None:
        return {}

    def when_ready(server):
        address_file.parent.mkdir(parents=True, exist_ok=True)
        address_file.write_text("".join(f"{listener}\n" for listener in server.LISTENERS))
        lines = [f"ihl_docs is listening on {listener}/" for listener in server.LISTENERS]
        # Said a moment later, after the workers' start-up lines, so it stays last on the screen.
        banner = threading.Timer(BANNER_DELAY, lambda: print(
            "\n".join(["", *lines, *notices()]), flush=True))
        banner.daemon = True
        banner.start()

    def on_exit(server):
        address_file.unlink(missing_ok=True)

    return {"when_ready": when_ready, "on_exit": on_exit}


def serving_address(address_file: Path) -> str | None:
    """The address a running `ihl serve` of this instance listens on, if one runs."""
    try:
        lines = address_file.read_text().split()
    except OSError:
        return None
    return lines[0] if lines else None
