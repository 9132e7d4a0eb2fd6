"""A server worker's first openings, computed once it serves: the Overview's months and every class's comparison
and unit spread, so that no viewer's first opening of a class waits for thousands of units to be computed.

What is computed is remembered per trial (trials.results), so it serves every viewer: a partner's view of a class
holds some of the trials computed here, and after an import only that import's trials are computed again."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace

from flask import Flask
from sqlalchemy.engine import Engine

from app.dashboard import compare_data, data
from app.dashboard.state import ViewState
from trials.db import read_session
from trials.models import EquipmentClass
from trials.queries import today
from trials.scope import Scope

log = logging.getLogger(__name__)


def warm_up(engine: Engine) -> dict[str, float]:
    """Compute the default view's months and each class's comparison and unit spread, as the operator sees them;
    give the seconds each took, by part."""
    scope, view, day, taken = Scope.operator(), ViewState(), today(), {}
    with read_session(engine) as session:
        started = time.perf_counter()
        data.monthly_avoided_table(session=session, scope=scope, state=view)
        taken["monthly"] = time.perf_counter() - started
        present = {trial.equipment_class for trial in data.trials_in_view(session=session, scope=scope, state=view)}
        for equipment_class in (found for found in EquipmentClass if found in present):
            started = time.perf_counter()
            chosen = replace(view, equipment_class=equipment_class)
            compare_data.comparison(session=session, scope=scope, state=chosen, as_of=day)
            compare_data.unit_spread(session=session, scope=scope, state=chosen, as_of=day)
            taken[equipment_class.value] = time.perf_counter() - started
    return taken


def _warm_up_logged(engine: Engine) -> None:
    """Warm up, saying how long it took; a failure is logged and leaves the first openings to compute."""
    try:
        taken = warm_up(engine)
    except Exception:  # a worker serves without it: its first openings compute what this would have
        log.exception("warming up the dashboard's figures failed")
        return
    log.info("dashboard figures warmed up in %.1f s (%d classes)", sum(taken.values()), len(taken) - 1)


def warm_up_at_first_request(app: Flask) -> None:
    """Start the warm-up, on a thread of its own, when the process serves its first request, not when the app is
    built: a gunicorn master that builds the app (--preload) and forks its workers must open no connection, and a
    thread it started would hold its locks in every child it forks."""
    engine: Engine = app.extensions["zetrials.engine"]
    started, lock = threading.Event(), threading.Lock()

    @app.before_request
    def _start_warm_up() -> None:
        if started.is_set():
            return
        with lock:
            if started.is_set():
                return
            thread = threading.Thread(target=_warm_up_logged, args=(engine,), name="zetrials-warm-up", daemon=True)
            app.extensions["zetrials.warm_up"] = thread
            thread.start()
            started.set()
