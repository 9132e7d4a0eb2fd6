"""Structured request logs: one JSON line per request with its id, user, route and duration."""

from __future__ import annotations

import json
import logging
import re
import secrets
import time

from flask import Flask, Response, g, request
from flask_login import current_user

logger = logging.getLogger("zetrials.requests")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def start() -> None:
    """Note when the request began and which id it carries (the proxy's, else a new one)."""
    g.started = time.perf_counter()
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if _REQUEST_ID.match(given) else secrets.token_hex(8)


def finish(response: Response) -> Response:
    """Log the request as one JSON line and hand its id back to the client."""
    user = current_user.record.email if current_user and current_user.is_authenticated else None
    started = g.get("started")
    entry = {
        "request_id": g.get("request_id"),
        "user": user,
        "method": request.method,
        "route": request.url_rule.rule if request.url_rule else None,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": round(1000 * (time.perf_counter() - started), 1) if started is not None else None,
    }
    logger.info(json.dumps(entry))
    if g.get("request_id"):
        response.headers["X-Request-ID"] = g.request_id
    return response


def init_app(app: Flask) -> None:
    """Log every request; the first before-request hook, so even refused requests are timed."""
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    app.before_request_funcs.setdefault(None, []).insert(0, start)
    app.after_request(finish)
