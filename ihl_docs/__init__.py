"""ihl_docs: documenting suspected violations of international humanitarian law."""

import os
from functools import partial
from pathlib import Path

from flask import Flask

from ihl_docs.core.config import PROJECT_ROOT, flask_settings, load_config, template_folder


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: configuration, the core, then each feature."""
    instance = os.environ.get("IHL_INSTANCE_DIR") or str(PROJECT_ROOT / "instance")
    app = Flask(__name__, instance_path=instance, template_folder=template_folder(),
                static_folder="static")
    config = load_config(Path(app.instance_path), overrides=test_config)
    app.config.update(flask_settings(config))
    app.config.update(config)
    app.extensions["ihl_app_factory"] = partial(create_app, test_config)

    from ihl_docs import core

    core.init_app(app)
    register_features(app)
    return app


def register_features(app: Flask) -> None:
    """Each feature adds its pages, commands, jobs and extensions; adding one is one line here.
    The order is the order of `ihl init`'s steps (the administrator's password comes last)."""
    from ihl_docs import (
        api,
        audit_pages,
        auth,
        bags,
        cases,
        demo,
        dossiers,
        evidence,
        incidents,
        protection,
        provisions,
        qualifications,
        users,
        verification,
    )

    for feature in (provisions, auth, users, cases, incidents, evidence, qualifications,
                    protection, dossiers, audit_pages, verification, bags, demo, api):
        feature.init_app(app)
