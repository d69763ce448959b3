"""The access log ``serve --access-log`` writes: uvicorn's line, made without the logging
module and written in batches.

uvicorn's access log goes through `logging`: a record, a copy of it, a formatter and a
handler's lock and write for every line, 166,000 instructions a request, more than the
emulator takes to answer a status poll (``python -m tests.benchmarks.bench_served``). The
same line, made by one format and written with the others of its tenth of a second, costs
a few thousand. A line is written at most `FLUSH_SECONDS` after its request's answer began
(or sooner, once `BATCH_BYTES` wait), and on the connection's end and at exit: only a
process killed outright loses the lines of its last tenth of a second.

It stands in for uvicorn's when the access log writes to a stream (uvicorn's own set-up,
standard output); a logging set-up of another kind keeps uvicorn's logger.
"""

from __future__ import annotations

import asyncio
import atexit
import http
import logging
import os
import weakref

from emulator.logs import logged

#: the longest a line waits to be written, in seconds
FLUSH_SECONDS = 0.1
#: the most bytes written at once: a pipe's atomic write (``PIPE_BUF``), so that the lines
#: of several workers sharing one never interleave
BATCH_BYTES = 4096
_STATUS = {status.value: f"{status.value} {status.phrase}" for status in http.HTTPStatus}
_logs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AccessLog] = weakref.WeakKeyDictionary()


class AccessLog:
    """uvicorn's access logger for one event loop, on which its ``info`` is called (all
    uvicorn calls): it keeps no reference to the loop, so that the loop's entry in the
    table of them goes with it."""

    def __init__(self, descriptor: int) -> None:
        self._descriptor = descriptor
        self._lines: list[bytes] = []
        self._waiting = 0  # bytes in `_lines`
        self._timer: asyncio.TimerHandle | None = None

    def info(self, message: str, client: str, method: str, target: str, version: str,
             status: int) -> None:  # fmt: skip
        """uvicorn's line (``message`` is its format, always the same), without colours."""
        phrase = _STATUS.get(status) or f"{status} "
        line = f'INFO:     {client} - "{method} {logged(target)} HTTP/{version}" {phrase}\n'
        encoded = line.encode("utf-8", "replace")
        self._lines.append(encoded)
        self._waiting += len(encoded)
        if self._waiting >= BATCH_BYTES:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        """Write every waiting line, at most `BATCH_BYTES` at once, whole lines each."""
        if not self._lines:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        lines, self._lines, self._waiting = self._lines, [], 0
        batch = b""
        for line in lines:
            if batch and len(batch) + len(line) > BATCH_BYTES:
                self._write(batch)
                batch = b""
            batch += line
        if batch:
            self._write(batch)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self._descriptor, view) :]
            except OSError:  # the stream went away (a closed pipe): as a handler would
                return


def access_log_for(loop: asyncio.AbstractEventLoop) -> AccessLog | logging.Logger:
    """The access logger for connections served on ``loop``: an `AccessLog` where uvicorn's
    writes its lines to a stream at INFO, else uvicorn's own (it may drop them all)."""
    if loop in _logs:
        return _logs[loop]
    uvicorn_log = logging.getLogger("uvicorn.access")
    handler = uvicorn_log.handlers[0] if len(uvicorn_log.handlers) == 1 else None
    if type(handler) is not logging.StreamHandler or handler.level > logging.INFO:
        return uvicorn_log
    if uvicorn_log.disabled or uvicorn_log.getEffectiveLevel() > logging.INFO:
        return uvicorn_log  # (not `isEnabledFor`: its cache outlives some changes of level)
    try:
        descriptor = handler.stream.fileno()
    except (AttributeError, OSError, ValueError):  # a stream without a descriptor
        return uvicorn_log
    made = _logs[loop] = AccessLog(descriptor)
    return made


@atexit.register
def _flush_all() -> None:
    for log in list(_logs.values()):
        log.flush()
