"""Problems are data: every bad cell or file becomes one, and an import never stops at the first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input file, located as precisely as the file allows."""

    file: str
    message: str
    sheet: str | None = None
    row: int | None = None  # 1-based row number as the spreadsheet program shows it
    column: str | None = None  # the header text as written in the file, else the column letter
    value: str | None = None  # the offending value, as text, shortened to 200 characters

    def as_dict(self) -> dict[str, Any]:
        """Give the JSON shape used by `zetrials import --json` and the API."""
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (
                self.file,
                f"sheet {self.sheet!r}" if self.sheet else "",
                f"row {self.row}" if self.row else "",
                f"column {self.column!r}" if self.column else "",
            )
            if part
        )
        shown = f" (value {self.value!r})" if self.value is not None else ""
        return f"{where}: {self.message}{shown}"


def shown_value(value: object) -> str | None:
    """Render a cell value for a problem report, bounded so a huge cell cannot bloat the report."""
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."
