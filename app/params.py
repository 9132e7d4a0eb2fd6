"""Query parameters read the one way every page and API route reads them: checked, or refused with 400 naming them."""

from __future__ import annotations

import re
from datetime import date

from flask import request
from werkzeug.exceptions import BadRequest

#: Pages beyond this are surely a mistake; the limit keeps every SQL offset a sane number on both databases.
MAX_PAGE = 10**9
_WHOLE_NUMBER = re.compile(r"[0-9]{1,10}")


#: What no database here can store or look up: PostgreSQL refuses NUL in text, and no UTF-8 column takes half a
#: UTF-16 surrogate pair; a query with either would fail with 500.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> bool:
    """Tell whether text can be stored, and searched for, on both databases."""
    return _UNSTORABLE.search(text) is None


def refuse_unstorable_text() -> None:
    """Refuse (400) an address, query or form field holding text no database can take, before a query fails on it."""
    if not storable(request.path):
        raise BadRequest("the address holds a NUL character or half a surrogate pair, which no trial or page has")
    for name, value in [*request.args.items(multi=True), *request.form.items(multi=True)]:
        if name is None:  # a multipart part that names no field (e.g. name="a\"): nothing can read it, nor store it
            continue
        if not (storable(name) and storable(value)):
            raise BadParameter(_UNSTORABLE.sub("?", name), "holds a NUL character or half a surrogate pair")


class BadParameter(BadRequest):
    """A request parameter that cannot be used; the message starts with its name, so clients know which to fix."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")


def whole_number(name: str, default: int, highest: int) -> int:
    """Read an optional query parameter that must be a whole number from 1 to `highest`."""
    text = request.args.get(name)
    if text is None:
        return default
    if not _WHOLE_NUMBER.fullmatch(text) or not 1 <= int(text) <= highest:
        raise BadParameter(name, f"must be a whole number from 1 to {highest}")
    return int(text)


def a_date(name: str) -> date | None:
    """Read an optional query parameter that must be a calendar date written YYYY-MM-DD."""
    text = request.args.get(name)
    if text is None or text == "":
        return None
    try:
        if len(text) != 10:  # fromisoformat also takes 20240630 and week dates: one spelling only
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise BadParameter(name, "must be a date written YYYY-MM-DD, e.g. 2025-06-30") from None
