"""Hand an accepted upload to the reader of its type, as its bytes tell it (importers.sniff), never its name."""

from __future__ import annotations

from pathlib import Path

from importers.csv import read_csv
from importers.legacy import read_legacy
from importers.raw import RawWorkbook
from importers.sniff import DEFAULT_LIMITS, Limits, sniff
from importers.xlsx import read_xlsx


def read_file(path: Path, *, display_name: str | None = None, limits: Limits = DEFAULT_LIMITS) -> RawWorkbook:
    """Check a file completely, then hand out its sheets as lazy row streams."""
    name = display_name or path.name
    kind, problems = sniff(path, name, limits)
    if kind == "xlsx":
        return read_xlsx(path, name, limits)
    if kind == "csv":
        return read_csv(path, name, limits)
    if kind in ("xls", "xlsb", "ods"):
        return read_legacy(path, name, kind, limits)
    return RawWorkbook(name, "unknown", [], problems)
