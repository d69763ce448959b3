"""What the emulator's servers leave out of uvicorn's log lines (the request record keeps
its own, masked): a credential in a request's query string is masked as the record masks
it, and a long target is cut (`LOGGED_TARGET_CHARS`); uvicorn's error after a WebSocket
handshake refused with an HTTP answer is dropped, and so is its traceback of a connection
a fault rule dropped on purpose (``reset``).

That error is no error: the client got its 401 or 404, and uvicorn's ``websockets-sansio``
protocol (recent uvicorn's default) logs it for every such refusal, which would set off any
alert on the server's errors (uvicorn pull request #3138). The emulator's WebSocket routes
always accept or refuse, so no other handshake can end that way.
"""

from __future__ import annotations

import logging

from emulator.core.excerpts import excerpt
from emulator.core.record import SECRET_PARAMETERS, masked_query
from emulator.http.exchange import ConnectionDropped

#: uvicorn's line after a handshake refused with ``websocket.http.response``
_FALSE_ALARM = "ASGI callable returned without completing handshake."
#: the loggers whose lines name request targets (the WebSocket lines are uvicorn.error's)
_UVICORN = ("uvicorn.error", "uvicorn.access")
#: the most characters of a request's target a log line shows: a target may run to the
#: request head's bound (64 KiB), and the line of an ASCII one stays within a pipe's atomic
#: write (access_log.py); the request record keeps it whole
LOGGED_TARGET_CHARS = 1000


class _Filter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == _FALSE_ALARM:
            return False
        if record.exc_info and isinstance(record.exc_info[1], ConnectionDropped):
            return False  # staged: the record has the request, the rule its firing
        if isinstance(record.args, tuple):
            record.args = tuple(logged(a) if isinstance(a, str) else a for a in record.args)
        return True


def masked(text: str) -> str:
    """``text`` with the credentials of its query string masked, if it has one (with
    ``serve --access-log`` this runs on every request: most name no credential)."""
    if "?" not in text:  # the common case, checked before any string is made
        return text
    target, mark, query = text.partition("?")
    # a name may come percent-encoded (``fal%5Fjwt%5Ftoken``), and is read so
    if "%" not in query and not any(name in query for name in SECRET_PARAMETERS):
        return text
    return target + mark + masked_query(query)


def logged(target: str) -> str:
    """A request's target as a log line shows it: its credentials masked, cut if long."""
    return excerpt(masked(target), LOGGED_TARGET_CHARS)


def filter_uvicorn_logs() -> None:
    """Filter uvicorn's loggers in this process (once however often it is called)."""
    for name in _UVICORN:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, _Filter) for existing in logger.filters):
            logger.addFilter(_Filter())
