"""The one header every page wears, Flask template or Dash layout: the links each role gets and who is signed in.

Both renderers (app/templates/base.html and app.dashboard.layout) draw what `shell_for` gives, so a link added here
appears on every page, and the two halves of the app cannot drift apart again.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from flask_login import current_user

from app.context import engine
from trials.db import read_session
from trials.models import Port, Role, User
from trials.registry import label

#: Where signing in, the brand and `/` lead: the Overview.
HOME = "/dashboard/"
#: The one stylesheet of every page, served from app/static by Flask and linked by Dash as well.
STYLESHEET = "/static/zetrials.css"


@dataclass(frozen=True)
class Link:
    """One link of the header; `key` names the page for Dash's ids (`nav-<key>`) and for marking the page shown."""

    key: str
    text: str
    href: str
    dash: bool = False  # a page of the Dash app, which its own navigation callback keeps the view's filters on


OVERVIEW = Link("overview", "Overview", HOME, dash=True)
COMPARE = Link("compare", "Compare", f"{HOME}compare", dash=True)
TRIALS = Link("trials", "Trials", f"{HOME}trials", dash=True)
METHODOLOGY = Link("methodology", "Methodology", f"{HOME}methodology", dash=True)
#: The Dash pages in the header, in the order the dashboard's navigation callback fills their links.
DASH_LINKS = (OVERVIEW, COMPARE, TRIALS, METHODOLOGY)
#: What editors (and admins) do: import workbooks, start a trial by hand.
EDITOR_LINKS = (Link("imports", "Imports", "/imports"), Link("new-trial", "New trial", "/trials/new"))
#: The Admin menu's entries.
ADMIN_LINKS = (
    Link("users", "Users", "/admin/users"),
    Link("tokens", "API tokens", "/admin/tokens"),
    Link("factors", "Emission factors", "/admin/factors"),
    Link("audit", "Audit log", "/admin/audit"),
)
EDITORS = (Role.admin, Role.editor)


@dataclass(frozen=True)
class Shell:
    """What the header shows one signed-in user: links before the Admin menu, its entries, the links after it."""

    before_admin: tuple[Link, ...]
    admin: tuple[Link, ...]  # empty for everyone but admins
    after_admin: tuple[Link, ...]
    viewer: str  # the user in words, e.g. "ana@port.example · Editor, Port of Los Angeles"


def links_for(role: Role) -> tuple[tuple[Link, ...], tuple[Link, ...], tuple[Link, ...]]:
    """The header's links for a role: the dashboards, Imports for editors, Admin for admins, then Methodology."""
    before = (OVERVIEW, COMPARE, TRIALS, *(EDITOR_LINKS if role in EDITORS else ()))
    return before, ADMIN_LINKS if role == Role.admin else (), (METHODOLOGY,)


def viewer_words(user: User, port_name: str | None) -> str:
    """Say who is signed in, in words: email, role as people read it, and their port's name or 'all ports'."""
    where = f"Port of {port_name}" if port_name else "all ports"
    return f"{user.email} · {label(user.role).capitalize()}, {where}"


def shell_for(user: User) -> Shell:
    """The header of one signed-in user, the port's name read from the ports table."""
    port_name = None
    if user.port_locode is not None:
        with read_session(engine()) as session:
            port = session.get(Port, user.port_locode)
            port_name = port.name if port is not None else user.port_locode
    before, admin, after = links_for(user.role)
    return Shell(before, admin, after, viewer_words(user, port_name))


def current_shell() -> Shell | None:
    """The signed-in viewer's header, or None before sign-in (the header then shows the brand alone)."""
    if current_user and current_user.is_authenticated:
        return shell_for(current_user.record)
    return None


def init_app(app: Flask) -> None:
    """Give every template the viewer's header and the stylesheet's address."""
    app.context_processor(lambda: {"shell": current_shell(), "home": HOME, "stylesheet": STYLESHEET})
