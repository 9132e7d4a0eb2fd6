"""Pages that exist before the dashboard: health and the signed-in home page."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, jsonify, render_template

from app.context import current_scope, engine
from trials.db import read_session
from trials.metrics import METRIC_UNITS
from trials.queries import list_trials, metrics_by_trial

bp = Blueprint("views", __name__)

#: The figures shown per trial on the home page, by metric key.
HOME_METRICS = ("energy_kwh", "diesel_displaced_l", "ghg_wtw_avoided_kg", "ghg_wtw_reduction_pct", "availability_pct")


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Answer load balancers: 200 when the database answers, 503 when it does not."""
    try:
        with engine().connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as error:
        return jsonify(status="error", database=type(error).__name__), 503
    return jsonify(status="ok", database="ok"), 200


@bp.get("/")
def home() -> str:
    """List the trials the viewer may see, with their headline figures."""
    scope = current_scope()
    with read_session(engine()) as session:
        trials = list_trials(session=session, scope=scope)
        metrics = metrics_by_trial(session=session, scope=scope)
    return render_template(
        "home.html", trials=trials, metrics=metrics, keys=HOME_METRICS, units=METRIC_UNITS, scope=scope
    )


def init_app(app: Flask) -> None:
    """Register the pages."""
    app.register_blueprint(bp)
