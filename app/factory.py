"""The ZE Trials web app: one Flask server, built by a factory so tests get a fresh one each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from app import (
    admin,
    api,
    auth,
    config,
    demo_accounts,
    downloads,
    errors,
    import_pages,
    import_profiles,
    jobs,
    requestlog,
    security,
    shell,
    trial_pages,
    views,
)
from app.dashboard import init_dashboard
from trials.db import make_engine


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: settings, database engine, sign-in, pages."""
    app = Flask("app", instance_relative_config=True)  # the package: its folder, instance path and logger as ever
    app.config.from_mapping(config.defaults())
    if test_config is not None:
        app.config.from_mapping(test_config)
    config.check(app.config, Path(app.instance_path))
    app.extensions["zetrials.engine"] = make_engine(app.config["DATABASE_URL"])
    jobs.init_app(app, app.extensions["zetrials.engine"])
    demo_accounts.refuse_in_production(app)
    requestlog.init_app(app)
    security.init_app(app)
    auth.init_app(app)
    demo_accounts.init_app(app)
    shell.init_app(app)
    views.init_app(app)
    api.init_app(app)
    trial_pages.init_app(app)
    admin.init_app(app)
    import_pages.init_app(app)
    import_profiles.init_app(app)
    downloads.init_app(app)
    app.extensions["zetrials.dash"] = init_dashboard(app)
    errors.init_app(app)
    return app
