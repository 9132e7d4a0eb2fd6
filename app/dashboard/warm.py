"""A server worker's first openings, computed once it serves: the Overview's months and every class's comparison
and unit spread, so that no viewer's first opening of a class waits for thousands of units to be computed.

What is computed is remembered per trial (trials.results), so it serves every viewer: a partner's view of a class
holds some of the trials computed here, and after an import only that import's trials are computed again."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import NamedTuple

from flask import Flask
from sqlalchemy.engine import Engine

from app.dashboard import compare_data, data
from app.dashboard.state import ViewState
from trials.db import read_session
from trials.models import EquipmentClass
from trials.queries import today
from trials.scope import Scope

log = logging.getLogger(__name__)


class WarmUp(NamedTuple):
    """How long each part of a warm-up took, in seconds: what a first opening of it computes without one."""

    monthly: float  # the Overview's months
    classes: dict[str, float]  # each class's comparison and unit spread, by class


def warm_up(engine: Engine) -> WarmUp:
    """Compute the default view's months and each class's comparison and unit spread, as the operator sees them."""
    scope, view, day, classes = Scope.operator(), ViewState(), today(), {}
    with read_session(engine) as session:
        started = time.perf_counter()
        data.monthly_avoided_table(session=session, scope=scope, state=view)
        monthly = time.perf_counter() - started
        present = {trial.equipment_class for trial in data.trials_in_view(session=session, scope=scope, state=view)}
        for equipment_class in (found for found in EquipmentClass if found in present):
            started = time.perf_counter()
            chosen = replace(view, equipment_class=equipment_class)
            compare_data.comparison(session=session, scope=scope, state=chosen, as_of=day)
            compare_data.unit_spread(session=session, scope=scope, state=chosen, as_of=day)
            classes[equipment_class.value] = time.perf_counter() - started
    return WarmUp(monthly, classes)


def _warm_up_logged(engine: Engine) -> None:
    """Warm up, saying how long it took; a failure is logged and leaves the first openings to compute."""
    try:
        taken = warm_up(engine)
    except Exception:  # a worker serves without it: its first openings compute what this would have
        log.exception("warming up the dashboard's figures failed")
        return
    seconds = taken.monthly + sum(taken.classes.values())
    log.info("dashboard figures warmed up in %.1f s (%d classes)", seconds, len(taken.classes))


#: Where a process keeps its warm-up thread, once its first request has started it.
WARM_UP = "zetrials.warm_up"


def warm_up_at_first_request(app: Flask) -> None:
    """Start the warm-up, on a thread of its own, when the process serves its first request, not when the app is
    built: a gunicorn master that builds the app (--preload) and forks its workers must open no connection, and a
    thread it started would hold its locks in every child it forks."""
    engine: Engine = app.extensions["zetrials.engine"]
    lock = threading.Lock()

    @app.before_request
    def _start_warm_up() -> None:
        if WARM_UP in app.extensions:  # started already: every later request passes here without the lock
            return
        with lock:
            if WARM_UP not in app.extensions:
                thread = threading.Thread(target=_warm_up_logged, args=(engine,), name="zetrials-warm-up", daemon=True)
                app.extensions[WARM_UP] = thread
                thread.start()
