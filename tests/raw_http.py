"""A request's bytes as a client writes them, for a test that holds the connection itself
(to leave it when it likes, or read what arrives when)."""

from __future__ import annotations

import json


def json_post(path: str, body: object, authorization: str) -> bytes:
    """The bytes of a POST of ``body`` as JSON to ``path``, with ``authorization``."""
    content = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: h\r\nAuthorization: {authorization}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(content)}\r\n\r\n"
    )
    return head.encode() + content
