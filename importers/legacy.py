"""Read .xls, .xlsb and .ods uploads with python-calamine, in a worker process with a time and memory limit.

calamine is a compiled library that loads whole sheets and may abort the process on a hostile file, so it never
runs in the web worker: a worker process first checks each sheet's real extent against the row and column limits
(importers.extent), then reads the sheets with calamine and sends their rows back in pickled batches. A worker that
runs out of time is killed; one that dies (an abort, or memory beyond its limit) refuses the file with a message.
Cells come out as the .xlsx reader gives them: integral numbers as int, durations as days, blank text as None.
"""

from __future__ import annotations

import contextlib
import pickle
import resource
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from datetime import date, time, timedelta
from pathlib import Path

from importers.extent import check_extents
from importers.problems import Problem
from importers.raw import Cell, RawSheet, RawWorkbook, Refused, Row, stripped_text
from importers.sniff import MB, Limits
from importers.worker import WorkerLost, received_frames, serve, start_worker, unpickled, worker_command

#: Address space a reading worker may use: calamine holds a whole sheet as a dense grid (about 40 bytes a cell).
WORKER_MEMORY_BYTES = 3 * 1024 * MB
_BATCH_ROWS = 2000
_COMMAND = worker_command("importers.legacy", "_serve_legacy")
_NAMES = {"xls": "Excel 97-2003 .xls workbook", "xlsb": "binary .xlsb workbook", "ods": "OpenDocument spreadsheet"}
_SAVE_AS = "open it in Excel or LibreOffice and save it as .xlsx"


def read_legacy(path: Path, name: str, kind: str, limits: Limits) -> RawWorkbook:
    """Read the whole file in a worker process within the time limit, then hand out each sheet's rows."""
    sheets: list[tuple[str, list[bytes]]] = []
    try:
        for data in _frames_in_time(path, kind, limits):
            sheet, batch = unpickled(data)
            if batch is None:  # the next sheet starts
                sheets.append((sheet, []))
            else:
                sheets[-1][1].append(batch)
    except Refused as refusal:
        return RawWorkbook(name, kind, [], [Problem(name, refusal.message, sheet=refusal.sheet)])
    return RawWorkbook(name, kind, [RawSheet(sheet, _rows(batches)) for sheet, batches in sheets], [])


def _rows(batches: list[bytes]) -> Iterator[Row]:
    """Unpickle a sheet's batches one at a time, so only the pickled form of the sheet stays in memory."""
    waiting = deque(batches)
    batches.clear()
    while waiting:
        yield from pickle.loads(waiting.popleft())  # noqa: S301 - pickled by our own worker  # nosec B301


def _frames_in_time(path: Path, kind: str, limits: Limits) -> Iterator[bytes]:
    """Run the worker, killing it once it has taken longer than the limit; a lost worker becomes a refusal."""
    try:
        worker = start_worker(_COMMAND, (path, kind, limits))
    except OSError as error:
        raise Refused(f"the {_NAMES[kind]} could not be read here ({error}); {_SAVE_AS}") from None
    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        worker.kill()

    timer = threading.Timer(limits.max_read_seconds, stop)
    timer.start()
    with worker:
        try:
            yield from received_frames(worker)
        except WorkerLost:
            worker.wait()
            if timed_out.is_set():
                message = f"reading the {_NAMES[kind]} took longer than {limits.max_read_seconds:.0f} s; {_SAVE_AS}"
            else:
                message = (
                    f"the {_NAMES[kind]} could not be read: the reader stopped (exit code {worker.returncode}), "
                    f"which a damaged file or one needing more than {WORKER_MEMORY_BYTES // MB:,} MB does; {_SAVE_AS}"
                )
            raise Refused(message) from None
        finally:
            timer.cancel()
            worker.kill()


def _serve_legacy() -> None:
    """Worker process: read the file named on stdin and send (sheet, pickled rows) pairs, or the refusal."""
    _limit_memory()
    serve(_sheet_batches, Refused)


def _limit_memory() -> None:
    """Cap this process's address space, so a sheet too big for calamine ends the worker, not the machine."""
    with contextlib.suppress(ValueError, OSError):  # a platform without the limit, or a lower one already set
        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY_BYTES, WORKER_MEMORY_BYTES))


def _sheet_batches(path: Path, kind: str, limits: Limits) -> Iterator[tuple[str, bytes | None]]:
    """Check every sheet's real extent, then read the worksheets with calamine, a batch of rows at a time."""
    import python_calamine  # loaded here only: the web process never imports it

    try:
        check_extents(path, kind, limits)
    except Refused:
        raise
    except Exception as error:  # noqa: BLE001 - any failure of the scan means a damaged file
        raise Refused(f"the {_NAMES[kind]} is damaged ({error}); {_SAVE_AS}") from None
    try:
        with path.open("rb") as stream:  # by content: calamine would go by the name, which may lie
            workbook = python_calamine.CalamineWorkbook.from_filelike(stream)
    except python_calamine.PasswordError:
        raise Refused(f"this {_NAMES[kind]} is password-protected; remove the password and save it as .xlsx") from None
    except Exception as error:  # noqa: BLE001 - calamine raises several kinds for damaged files
        raise Refused(f"the {_NAMES[kind]} is damaged ({error}); {_SAVE_AS}") from None
    for metadata in workbook.sheets_metadata:
        yield metadata.name, None  # every sheet is listed, in workbook order, even an empty one
        if metadata.typ != python_calamine.SheetTypeEnum.WorkSheet:
            continue  # a chart sheet holds no rows
        try:
            sheet = workbook.get_sheet_by_name(metadata.name)
            yield from _batches(metadata.name, sheet.start, sheet.iter_rows())
        except Refused:
            raise
        except Exception as error:  # noqa: BLE001 - as above
            raise Refused(f"the sheet could not be read ({error}); {_SAVE_AS}", metadata.name) from None


def _batches(
    name: str, start: tuple[int, int] | None, rows: Iterator[Sequence[object]]
) -> Iterator[tuple[str, bytes | None]]:
    """Number calamine's rows as the file does and pickle them in batches: calamine 0.9's rows start at row 1 but
    at the sheet's first column, so the columns before it are put back (tests compare every format's rows)."""
    padding = (None,) * (start[1] if start else 0)
    batch: list[Row] = []
    for number, values in enumerate(rows, start=1):
        if cells := _cells(values):
            batch.append((number, padding + cells))
        if len(batch) >= _BATCH_ROWS:
            yield name, pickle.dumps(batch, pickle.HIGHEST_PROTOCOL)
            batch = []
    if batch:
        yield name, pickle.dumps(batch, pickle.HIGHEST_PROTOCOL)


def _cells(values: Sequence[object]) -> tuple[Cell, ...]:
    """Turn one calamine row into the .xlsx reader's values, without trailing empty cells; () for a blank row."""
    end = len(values)
    while end and values[end - 1] == "":  # calamine's empty cell
        end -= 1
    cells = [_cell(value) for value in values[:end]]
    while cells and cells[-1] is None:
        cells.pop()
    return tuple(cells)


def _cell(value: object) -> Cell:
    """Turn one calamine value into the value the .xlsx reader gives for the same cell."""
    if isinstance(value, str):
        return stripped_text(value)
    if isinstance(value, bool | date | time):  # datetime is a date
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, timedelta):  # a duration: Excel stores days, and writes 15 significant digits
        days = value.total_seconds() / 86_400
        return int(days) if days.is_integer() else float(f"{days:.15g}")
    if isinstance(value, int):
        return value
    return stripped_text(str(value)) if value is not None else None
