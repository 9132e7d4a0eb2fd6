"""Settings for the web app: safe defaults, then the environment, then a test's own dict."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from trials.db import database_url

DEVELOPMENT = "development"


class ConfigError(RuntimeError):
    """Raised at start-up when the app would run unsafely."""


def environment() -> str:
    """Name the environment the app and commands run in: ZETRIALS_ENV, production unless it is set."""
    return os.environ.get("ZETRIALS_ENV", "production")


def defaults() -> dict[str, Any]:
    """Give the settings every deployment starts from."""
    env = environment()
    return {
        "ENV_NAME": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "DATABASE_URL": database_url(),
        "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env != DEVELOPMENT,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": env != DEVELOPMENT,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session, which is short already
        **queue_defaults(),
    }


def queue_defaults() -> dict[str, Any]:
    """Give the import queue's settings: where jobs wait (Redis when REDIS_URL is set, else a SQLite file in the
    instance folder; uploads wait in the database), and how long a dead worker or an unconfirmed upload is tolerated."""
    return {
        # "redis://...", "sqlite:///path", "immediate" (run in the request: tests), or None for the default.
        "JOB_QUEUE": os.environ.get("ZETRIALS_QUEUE") or os.environ.get("REDIS_URL"),
        "JOB_QUEUE_NAME": os.environ.get("ZETRIALS_QUEUE_NAME", "zetrials"),
        "JOB_HEARTBEAT_LIMIT_S": float(os.environ.get("ZETRIALS_JOB_HEARTBEAT_LIMIT_S", "60")),
        "UPLOAD_TTL_HOURS": float(os.environ.get("ZETRIALS_UPLOAD_TTL_HOURS", "24")),
        "MAX_PENDING_UPLOADS": int(os.environ.get("ZETRIALS_MAX_PENDING_UPLOADS", "5")),
    }


def development_secret(path: Path) -> str:
    """Keep one random key per development checkout, so sign-ins survive restarts without a shared secret."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def check(config: dict[str, Any], instance_path: Path) -> None:
    """Refuse to start outside development without a real SECRET_KEY."""
    if config.get("SECRET_KEY"):
        return
    if config["ENV_NAME"] != DEVELOPMENT:
        raise ConfigError("SECRET_KEY must be set outside development (or set ZETRIALS_ENV=development)")
    config["SECRET_KEY"] = development_secret(Path(config.get("DEV_SECRET_FILE") or instance_path / "dev-secret-key"))
