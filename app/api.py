"""The JSON API under /api/v1: the same scope as every page, signed by session cookie or bearer token."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def init_app(app: Flask) -> None:
    """Register the API."""
    app.register_blueprint(bp)
