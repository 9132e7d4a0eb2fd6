"""Error answers: JSON for machines (API and Dash callbacks), a plain page for people; never a stack trace."""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

#: What to tell a person for each status, in plain words.
MESSAGES = {
    400: "The request was not understood. If you submitted a form, reload the page and try again.",
    401: "Sign in first.",
    403: "Your role does not allow this.",
    404: "There is nothing here, or nothing you may see.",
    405: "This address does not accept that kind of request.",
    413: "The file is larger than the server accepts.",
    429: "Too many attempts. Wait a few minutes and try again.",
    500: "Something went wrong on our side. It has been logged; please try again later.",
}


def wants_json() -> bool:
    """Machines get JSON: the API, Dash callbacks, and clients that do not ask for HTML."""
    return request.path.startswith("/api/") or "/_dash-" in request.path or not request.accept_mimetypes.accept_html


def answer(error: HTTPException) -> tuple[Response | str, int, list[tuple[str, str]]]:
    """Answer an HTTP error in the form the client reads, with its own message when it has a specific one."""
    code = error.code or 500
    own = error.description if error.description != type(error).description and code != 500 else None
    message = own or MESSAGES.get(code, error.name)
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    if wants_json():
        return jsonify(error=message, status=code), code, headers
    return render_template("error.html", code=code, title=error.name, message=message), code, headers


def unexpected(error: Exception) -> tuple[Response | str, int, list[tuple[str, str]]]:
    """Log a bug with its traceback and answer 500 without any of its details."""
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path, exc_info=error)
    return answer(InternalServerError())


def init_app(app: Flask) -> None:
    """Answer every error the same way everywhere."""
    app.register_error_handler(HTTPException, answer)
    app.register_error_handler(Exception, unexpected)
