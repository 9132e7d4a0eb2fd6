"""Parse a long sheet in a worker process, beside the caller's checking and loading of the rows already read.

The worker runs the same readers (importers.xlsx.sheet) and sends the rows in pickled batches through a pipe, or the
refusal that stopped it (the protocol is importers.worker's). It is started only when a core is idle: on a busy
machine it would only add work, and a short sheet is not worth the 0.1-0.2 s a worker takes to start.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from importers.raw import Refused, Row
from importers.sniff import MB, Limits
from importers.worker import WorkerLost, received_batches, serve, start_worker, worker_command
from importers.xlsx.book import Book
from importers.xlsx.sheet import row_batches


def _usable_cores() -> int:
    """Count the cores this process may run on (its affinity mask, where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _spare_core() -> bool:
    """Tell whether a worker would find a core: while the last minute's load fills them all, it only adds work."""
    try:
        return os.getloadavg()[0] < _usable_cores()
    except (AttributeError, OSError):  # no load average (Windows): assume the cores are there
        return True


#: A sheet whose XML unpacks to at least this many bytes (about 5,000 rows of 12 cells) is parsed in a worker
#: process when a core is idle, so the parsing runs beside the caller's checking and loading of the rows already
#: read; a smaller sheet is not worth the 0.1-0.2 s a worker takes to start. None: parse every sheet here.
WORKER_MIN_BYTES: int | None = 2 * MB if _usable_cores() > 1 and sys.executable else None

# The worker runs this very module (see importers.worker); tests replace the command.
_WORKER_COMMAND = worker_command("importers.xlsx.parallel", "_serve_worker")


def sheet_rows(path: Path, part: str, size: int, book: Book, limits: Limits, sheet: str) -> Iterator[Row]:
    """Stream a sheet's rows: from a worker process when the sheet's XML is long and a core is idle, else parsed
    here; either raises Refused when the sheet turns out unreadable."""
    if WORKER_MIN_BYTES is not None and size >= WORKER_MIN_BYTES and _spare_core():
        return _worker_rows(path, part, book, limits, sheet)
    return _rows_here(path, part, book, limits, sheet)


def _rows_here(path: Path, part: str, book: Book, limits: Limits, sheet: str) -> Iterator[Row]:
    """Stream a sheet's rows, parsed in this process."""
    for batch in row_batches(path, part, book, limits, sheet):
        yield from batch


def _worker_rows(path: Path, part: str, book: Book, limits: Limits, sheet: str) -> Iterator[Row]:
    """Stream a long sheet's rows as a worker parses them; parse here instead if the worker fails before any row."""
    request = (path, part, book, limits, sheet)
    try:
        worker = _start_worker(request)
    except OSError:
        yield from _rows_here(*request)
        return
    with worker:  # closes the pipes and waits for the worker
        handed_out = False
        try:
            for batch in received_batches(worker):
                handed_out = True
                yield from batch
            return
        except WorkerLost:
            if handed_out:  # rows already went out: starting again here would hand them out twice
                raise RuntimeError(f"the process reading {part} stopped (exit code {worker.poll()})") from None
        finally:
            worker.kill()  # the consumer may stop early; a finished worker ignores this
    yield from _rows_here(*request)


def _start_worker(request: tuple[Path, str, Book, Limits, str]) -> subprocess.Popen[bytes]:
    """Start a worker process and send it the sheet to parse, with the shared strings and styles it needs."""
    return start_worker(_WORKER_COMMAND, request)


def _serve_worker() -> None:
    """Worker process: parse the sheet named on stdin and send its row batches (or the refusal that stopped it)."""
    serve(row_batches, Refused)
