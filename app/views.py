"""Health for load balancers, and `/`, which leads to the Overview."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, jsonify, redirect
from werkzeug.wrappers import Response as BaseResponse

from app.context import engine
from app.shell import HOME

bp = Blueprint("views", __name__)


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
def home() -> BaseResponse:
    """Send the viewer to the Overview, the one home page."""
    return redirect(HOME)


def init_app(app: Flask) -> None:
    """Register the pages."""
    app.register_blueprint(bp)
