"""Long values as a log line, a page or the request record shows them: their start, and
how long they were.

A value from a request (a webhook's URL, a request's target, an input's inline media) may
run to the request's whole size; shown whole, it floods a log or a page, and a log line
longer than a pipe's atomic write may interleave with another process's.
"""

from __future__ import annotations

import base64
import json
from json.encoder import encode_basestring_ascii
from typing import Any


def excerpt(text: str, limit: int) -> str:
    """``text`` cut after ``limit`` characters, its whole length said; whole if no longer."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def json_excerpt(value: Any, limit: int) -> tuple[bytes, int]:
    """The first ``limit`` bytes of ``value`` as JSON (bytes in it as base64, as the record
    keeps a realtime input), and the whole text's length, without writing out a string or
    bytes longer than the excerpt needs: a 19 MiB realtime frame's bytes took 136 ms of the
    server's event loop to encode whole, to keep 64 KiB of them (issue 17).

    A string of more than ``limit`` characters is written more than ``limit`` bytes long
    (a character is at least one byte of JSON): what follows its first ``limit`` characters
    falls past the excerpt, and only its length is counted (likewise bytes, in whole groups
    of three, which base64 writes as four characters of their own). Keys are written whole:
    two cut alike would be one."""
    beyond = 0  # what the cut strings and bytes would have added

    def cut(item: Any) -> Any:
        nonlocal beyond
        if type(item) is str:
            if len(item) <= limit:
                return item
            head = item[:limit]
            beyond += _escaped_length(item) - _escaped_length(head)
            return head
        if type(item) is bytes:
            most = 3 * (limit // 4 + 1)  # bytes enough for more than ``limit`` characters
            if len(item) > most:
                beyond += _base64_length(len(item)) - _base64_length(most)
                item = item[:most]
            return base64.b64encode(item).decode()
        if type(item) is dict:
            return {key: cut(member) for key, member in item.items()}
        if type(item) is list:
            return [cut(member) for member in item]
        return item

    text = json.dumps(cut(value)).encode()
    return text[:limit], len(text) + beyond


def _escaped_length(text: str) -> int:
    """How many characters JSON (``ensure_ascii``) writes ``text`` as, quotes aside."""
    if text.isascii() and text.isprintable():  # only quotes and backslashes are escaped
        return len(text) + text.count('"') + text.count("\\")
    return len(encode_basestring_ascii(text)) - 2


def _base64_length(size: int) -> int:
    return 4 * -(-size // 3)
