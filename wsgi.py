"""WSGI entry point: `gunicorn wsgi:app`."""

from ihl_docs import create_app

app = create_app()
