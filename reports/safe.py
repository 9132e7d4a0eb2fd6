"""Cell text that can never become a formula or a DDE link, and can never break the file it is saved in."""

from __future__ import annotations

import re

#: Text starting with one of these turns into a formula (or a DDE link) in a spreadsheet once someone edits the cell
#: (OWASP, "CSV injection"); such text is stored as text and marked so (quotePrefix), never as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Excel holds at most this many characters in one cell and calls a file with a longer one corrupt.
MAX_CELL_CHARS = 32_767

# Characters XML 1.0 cannot carry at all: C0 controls other than tab, newline and carriage return, lone UTF-16
# surrogates (which cannot even be encoded as UTF-8) and the two non-characters U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CONTROL_PICTURES = 0x2400  # U+2400 SYMBOL FOR NULL onwards: a visible stand-in for each C0 control


def _stand_in(match: re.Match[str]) -> str:
    """Show a control character as its Unicode symbol (U+2407 for BEL), anything else unstorable as U+FFFD."""
    code = ord(match.group())
    return chr(_CONTROL_PICTURES + code) if code < 0x20 else "\ufffd"


def clean_text(text: str) -> str:
    """Make any text storable: unstorable characters become visible stand-ins and overlong text is cut, not refused."""
    if _NOT_XML.search(text):
        text = _NOT_XML.sub(_stand_in, text)
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "\u2026"
    return text


def starts_like_formula(text: str) -> bool:
    """Tell whether a spreadsheet would read this text as a formula or DDE link once the cell is edited."""
    return text.startswith(FORMULA_TRIGGERS)
