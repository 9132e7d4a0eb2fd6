"""The app as a long-running server runs it: built once, with the garbage collector kept out of its requests."""

from __future__ import annotations

import gc

from flask import Flask

from app.dashboard.warm import warm_up_at_first_request
from app.factory import create_app

#: Allocations between two young collections (Python's default is 700). A dashboard callback builds thousands of
#: short-lived objects that reference counting frees anyway; at 700 they set off a full collection every few calls.
YOUNG_COLLECTION_EVERY = 50_000


def settle_collector() -> None:
    """Freeze what lives as long as the process (modules, routes, the Dash layout, table metadata) out of the
    collector's full passes, and collect young objects less often: full passes over that heap stalled a callback
    by up to 180 ms, one call in five, at 10 million rows (benchmarks/dashboard_speed.py)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, 10, 10)


def server_app() -> Flask:
    """Build the app for a server process (gunicorn's workers, `zetrials serve`), its collector settled, its
    dashboard's first openings computed in the background once it serves."""
    app = create_app()
    settle_collector()
    warm_up_at_first_request(app)
    return app
