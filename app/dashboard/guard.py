"""Every callback request checked before Dash reads it: the callback must exist, its inputs and state must be the ones
it declares, and each value of the type its control sends; anything else is refused with 400 JSON, never a 500."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import dash
from flask import request
from werkzeug.exceptions import BadRequest

from app.params import storable

#: The longest text a control or the URL may send: far beyond any real view's query string or path.
MAX_TEXT = 4096
#: The highest page of measurements a trial page may ask for; the SQL offset stays a sane number.
MAX_PAGE = 10**9
Check = Callable[[Any], bool]


def _text(value: Any) -> bool:
    """A control's text, or nothing chosen."""
    return value is None or (isinstance(value, str) and len(value) <= MAX_TEXT and storable(value))


def _texts(value: Any) -> bool:
    """A multi-select's chosen values, or nothing chosen."""
    return value is None or (isinstance(value, list) and len(value) <= 100 and all(_text(v) for v in value))


def _count(value: Any) -> bool:
    """A button's click count (a bool is not one, though Python calls it an int)."""
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 2**53)


def _page(value: Any) -> bool:
    """A page number kept by the browser."""
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_PAGE)


#: What each (component, property) a callback reads may hold; a pattern-matching component is named by its type.
VALUES: dict[tuple[str, str], Check] = {
    ("url", "search"): _text,
    ("url", "pathname"): _text,
    ("f-port", "value"): _texts,
    ("f-class", "value"): _text,
    ("f-tech", "value"): _texts,
    ("f-from", "value"): _text,
    ("f-to", "value"): _text,
    ("f-preset", "value"): _text,
    ("c-metric", "value"): _text,
    ("c-ghg", "value"): _text,
    ("c-basis", "value"): _text,
    ("c-grain", "value"): _text,
    ("provenance-previous", "n_clicks"): _count,
    ("provenance-next", "n_clicks"): _count,
    ("provenance-page", "data"): _page,
    ("download-button", "n_clicks"): _count,
}


def _refuse(message: str) -> BadRequest:
    """A 400 whose message says what was wrong with the callback request."""
    return BadRequest(f"callback request: {message}")


def _component(declared: str) -> tuple[str, dict[str, Any] | None]:
    """A declared component id as (name, pattern): a pattern-matching id is named by its type."""
    if not declared.startswith("{"):
        return declared, None
    pattern: dict[str, Any] = json.loads(declared)
    return str(pattern["type"]), pattern


def _same_component(declared: str, sent: Any) -> bool:
    """Tell whether a sent id is the declared one: equal, or filling each wildcard of a pattern with a short text."""
    _name, pattern = _component(declared)
    if pattern is None:
        return isinstance(sent, str) and sent == declared
    if not isinstance(sent, dict) or sent.keys() != pattern.keys():
        return False
    return all(
        isinstance(sent[key], str) and 0 < len(sent[key]) <= 100 if isinstance(wanted, list) else sent[key] == wanted
        for key, wanted in pattern.items()
    )


def _check_items(kind: str, declared: list[dict[str, str]], sent: Any) -> None:
    """Check one list of a request (inputs or state) against the callback's declaration, value by value."""
    if not isinstance(sent, list) or len(sent) != len(declared):
        raise _refuse(f"{kind} must be a list of {len(declared)} items")
    for wanted, item in zip(declared, sent, strict=True):
        where = f"{kind} {wanted['id']}.{wanted['property']}"
        if not isinstance(item, dict) or item.get("property") != wanted["property"]:
            raise _refuse(f"{where} is missing")
        if not _same_component(wanted["id"], item.get("id")):
            raise _refuse(f"{where} is missing")
        check = VALUES.get((_component(wanted["id"])[0], wanted["property"]))
        if check is None or not check(item.get("value")):
            raise _refuse(f"{where} has a value of the wrong type")


def _declared_outputs(key: str) -> list[tuple[str, str]]:
    """The (id, property) pairs a callback's key names: 'id.prop', or '..id.prop...id.prop..' for several."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    return [(component, prop) for component, _, prop in (part.rpartition(".") for part in parts)]


def _check_outputs(key: str, sent: Any) -> None:
    """Check the outputs a request names against the callback's own."""
    declared = _declared_outputs(key)
    items = sent if key.startswith("..") else [sent]
    if not isinstance(items, list) or len(items) != len(declared):
        raise _refuse(f"outputs must name the {len(declared)} outputs of {key}")
    for (component, prop), item in zip(declared, items, strict=True):
        if not isinstance(item, dict) or item.get("property") != prop or not _same_component(component, item.get("id")):
            raise _refuse(f"outputs must name {component}.{prop}")


def check_body(body: Any, callbacks: Mapping[str, Mapping[str, Any]]) -> None:
    """Refuse a callback request Dash could not answer without failing: raise BadRequest saying what is wrong."""
    if not isinstance(body, dict):
        raise _refuse("the body must be a JSON object")
    key = body.get("output")
    if not isinstance(key, str) or key not in callbacks:
        raise _refuse("output must name a callback of this dashboard")
    _check_outputs(key, body.get("outputs"))
    _check_items("inputs", callbacks[key]["inputs"], body.get("inputs"))
    _check_items("state", callbacks[key]["state"], body.get("state", []))
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) and len(c) <= MAX_TEXT for c in changed):
        raise _refuse("changedPropIds must be a list of texts")


def install(app: dash.Dash) -> None:
    """Check every callback request to this Dash app before Dash reads it (after sign-in and CSRF)."""
    path = f"{app.config.requests_pathname_prefix}_dash-update-component"
    callbacks = app.callback_map

    def check_callback_request() -> None:
        if request.path == path and request.method == "POST":
            check_body(request.get_json(silent=True), callbacks)

    app.server.before_request(check_callback_request)
