"""What a request needs from the app: its database engine and the signed-in viewer's scope."""

from __future__ import annotations

from flask import abort, current_app
from flask_login import current_user
from sqlalchemy.engine import Engine

from trials.models import Role
from trials.scope import Scope


def engine() -> Engine:
    """Give the app's database engine."""
    found: Engine = current_app.extensions["zetrials.engine"]
    return found


def current_scope() -> Scope:
    """Build the viewer's scope from the session user, never from request parameters."""
    if not current_user.is_authenticated:
        abort(401)
    return Scope.for_user(current_user.record)


def require_role(*roles: Role) -> Scope:
    """Give the viewer's scope if their role is one of these, else stop the request with 403."""
    scope = current_scope()
    if scope.role not in roles:
        abort(403)
    return scope
