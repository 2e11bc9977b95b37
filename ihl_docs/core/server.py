"""Running the application under gunicorn (the production WSGI server)."""

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from ihl_docs import create_app

        app = create_app()
        app.extensions["ihl_store"].clean_temporary()  # uploads cut off by a crash
        return app


def run_gunicorn(host: str, port: int, workers: int) -> None:
    _Gunicorn({
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": 4,
        "timeout": 120,
        "accesslog": "-",
        # Paths only: query strings can hold search terms about witnesses.
        "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
    }).run()
