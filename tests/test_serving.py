"""A server process settles its garbage collector once the app is built (app.serving)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.server import PROJECT, _environment
from trials.db import make_engine
from trials.seed import initialise

PROBE = """
import gc
from app.dashboard.warm import WARM_UP
from app.serving import YOUNG_COLLECTION_EVERY, server_app
before = gc.get_freeze_count()
app = server_app()
print(before, gc.get_freeze_count(), gc.get_threshold()[0] == YOUNG_COLLECTION_EVERY, app.name)
print(WARM_UP in app.extensions)  # nothing opened yet: a gunicorn master may fork after this
app.test_client().get("/healthz")
warm_up = app.extensions[WARM_UP]
warm_up.join(timeout=60)
print(warm_up.name, warm_up.is_alive())
"""


def test_a_server_process_freezes_what_it_built_at_start_up_and_collects_young_objects_less_often(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'serving.sqlite'}"
    engine = make_engine(url)
    initialise(engine)  # as `zetrials init` leaves it: the warm-up reads the trials
    engine.dispose()
    environment = _environment(url, "a secret for this test only " * 2)
    done = subprocess.run(  # a process of its own: freezing is for the whole interpreter
        [sys.executable, "-c", PROBE], cwd=PROJECT, env=environment, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    before, frozen, threshold_set, name, warm_up_at_build, warm_up, warming = done.stdout.split()
    assert int(before) == 0
    assert int(frozen) > 10_000  # modules, routes and the Dash layout: far more than a handful of objects
    assert (threshold_set, name) == ("True", "app")
    assert warm_up_at_build == "False"
    assert (warm_up, warming) == ("zetrials-warm-up", "False")  # started by the first request, on its own thread
    assert "warming up the dashboard's figures failed" not in done.stderr
