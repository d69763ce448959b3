"""fal's URL grammar: endpoint ids, and the queue's ``…/requests/{id}/…`` paths."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

_NAMESPACES = ("workflows", "comfy")
_NUMERIC_APP = re.compile(r"^([0-9]+)-([a-zA-Z0-9-]+)$")


@lru_cache(maxsize=1024)
def app_path(endpoint_id: str) -> str:
    """``[namespace/]owner/alias``: the part of an id the queue's request URLs use."""
    parts = endpoint_id.split("/")
    if len(parts) == 1 and (match := _NUMERIC_APP.match(parts[0])):
        return f"{match.group(1)}/{match.group(2)}"
    if parts[0] in _NAMESPACES:
        return "/".join(parts[:3])
    return "/".join(parts[:2])


def alias(endpoint_id: str) -> str:
    return app_path(endpoint_id).rsplit("/", 1)[-1]


class RequestPath(NamedTuple):  # a tuple: made on every status poll, the hot path
    app: str  # as the client wrote it: owner/alias or the full endpoint id
    request_id: str
    action: str  # "result", "status", "stream" or "cancel"


_ACTIONS = {"": "result", "status": "status", "status/stream": "stream", "cancel": "cancel"}


def parse_request_path(path: str) -> RequestPath | None:
    """Read ``{app}/requests/{id}[/status[/stream]|/cancel][/]``; None if it is not one."""
    app, marker, rest = path.strip("/").rpartition("/requests/")
    if not marker or not app or not rest:
        return None
    request_id, _, tail = rest.partition("/")
    action = _ACTIONS.get(tail.strip("/"))
    if action is None or not request_id:
        return None
    return RequestPath(app, request_id, action)


def names_endpoint(app: str, endpoint_id: str) -> bool:
    """Whether a request path's app names the endpoint (by its full id or its app path)."""
    return app in (endpoint_id, app_path(endpoint_id))


_TRUE = {b"1", b"true", b"yes", b"on"}


def wants_logs(query_string: bytes) -> bool:
    """Whether a status URL's query asks for logs (``?logs=1``)."""
    # Read by hand: parsing the whole query string is a visible cost on the poll path.
    for pair in query_string.split(b"&"):
        name, _, value = pair.partition(b"=")
        if name == b"logs":
            return value.lower() in _TRUE
    return False
