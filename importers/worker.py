"""Run one reading job in a separate Python process that sends its results back as pickled batches.

A sheet parsed in another process runs beside the caller's checking and loading, and a reader that may abort or
hang (python-calamine on a hostile file) cannot take the caller down with it.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

FRAME = struct.Struct("<Q")  # each batch travels as the length of its pickle, then the pickle; 0 ends
_PIPE_BYTES = 1024 * 1024  # Linux's default upper limit for an unprivileged process
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])


class WorkerLost(Exception):
    """The worker process ended before its end marker (it could not start, or it died)."""


def worker_command(module: str, function: str) -> tuple[str, ...]:
    """Give the command that runs `module.function()` in this interpreter, with this very package on its path
    (-P keeps the working directory off sys.path)."""
    return (sys.executable, "-P", "-c", f"from {module} import {function}; {function}()")


def start_worker(command: Sequence[str], request: object) -> subprocess.Popen[bytes]:
    """Start a worker process and send it its request, pickled."""
    search_path = os.pathsep.join(filter(None, [_PACKAGE_ROOT, os.environ.get("PYTHONPATH")]))
    worker = subprocess.Popen(  # noqa: S603 - this interpreter running this package, no shell, no user input  # nosec B603
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": search_path}
    )
    assert worker.stdin is not None and worker.stdout is not None
    _widen_pipe(worker.stdout)
    try:
        with worker.stdin as stream:
            pickle.dump(request, stream, pickle.HIGHEST_PROTOCOL)
    except OSError:  # it could not start (or died at once): it is not wanted any more
        worker.kill()
        worker.wait()
        raise
    return worker


def _widen_pipe(stream: IO[bytes]) -> None:
    """Let the worker run up to a megabyte ahead of the caller (on Linux; other pipes stay as they are)."""
    with contextlib.suppress(ImportError, AttributeError, OSError):
        import fcntl

        fcntl.fcntl(stream.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)


def received_frames(worker: subprocess.Popen[bytes]) -> Iterator[bytes]:
    """Give the worker's pickled batches up to its end marker, still pickled; a worker that ends before the
    marker is lost."""
    stream = worker.stdout
    assert stream is not None
    while (header := stream.read(FRAME.size)) and len(header) == FRAME.size:
        (size,) = FRAME.unpack(header)
        if not size:
            return
        data = stream.read(size)
        if len(data) < size:
            break
        yield data
    raise WorkerLost


def unpickled(data: bytes) -> Any:
    """Unpickle one batch, raising the exception the worker sent instead of a batch."""
    batch = pickle.loads(data)  # noqa: S301 - written by the worker this process started, through its pipe  # nosec B301
    if isinstance(batch, Exception):
        raise batch
    return batch


def received_batches(worker: subprocess.Popen[bytes]) -> Iterator[Any]:
    """Unpickle the worker's batches up to its end marker, raising the exception it sends instead of a batch."""
    for data in received_frames(worker):
        yield unpickled(data)


def serve(produce: Callable[..., Iterator[object]], expected: type[Exception]) -> None:
    """Worker process: call `produce` with the request read from stdin and write what it yields to stdout (or the
    `expected` exception that stopped it), then the end marker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group; the caller stops us
    output = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # anything printed goes to stderr, never among the batches
    request = pickle.load(sys.stdin.buffer)  # noqa: S301 - sent by the process that started us  # nosec B301

    def send(item: object) -> None:
        data = pickle.dumps(item, pickle.HIGHEST_PROTOCOL)
        output.write(FRAME.pack(len(data)))
        output.write(data)

    with output:
        try:
            for batch in produce(*request):
                send(batch)
        except expected as refusal:
            send(refusal)
        output.write(FRAME.pack(0))
