"""Reading request bodies defensively.

Both providers take JSON bodies; this module turns whatever arrives into a JSON value or a
`PayloadError` that says what was wrong, so a provider can answer in its own format. Size
and nesting are bounded before anything else looks at the value. It reads the ASGI scope
and ``receive`` themselves: a submit, the hot path, builds no Starlette `Request`.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Iterable
from typing import Any, NamedTuple

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.types import Receive, Scope

from emulator.config import EmulatorConfig
from emulator.core.files import Storage
from emulator.core.stored_files import StoredFile
from emulator.http.asgi import BODY, header
from emulator.http.deadlines import deadlines


class PayloadError(Exception):
    """A body that cannot be used, with the HTTP status that says why."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message


def _is_json_content_type(content_type: str) -> bool:
    if content_type == "application/json":  # what clients send: no parsing needed
        return True
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type in ("", "application/json") or media_type.endswith("+json")


def declares_json(scope: Scope) -> bool:
    """Whether the request in ``scope`` says its body is JSON (or says nothing of it, as
    the providers read a body sent without a type)."""
    return _is_json_content_type(header(scope, b"content-type"))


#: how long a request body may take to arrive: a client that trickles it holds no worker
BODY_SECONDS = 60.0


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The whole body; `PayloadError` 413 beyond ``limit`` bytes (checked as it arrives)."""
    declared = header(scope, b"content-length")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    task, pending = asyncio.current_task(), deadlines()
    assert task is not None  # a request is always read by a task
    pending.start(task, BODY_SECONDS)
    chunks: list[bytes] = []
    body = None
    size = 0
    try:
        # The ASGI messages themselves, in this frame: Starlette's stream is an async
        # generator, a visible cost on a submit, where the whole body mostly comes in one.
        while body is None:
            message = await receive()
            if message["type"] != "http.request":  # http.disconnect
                raise PayloadError(400, "disconnected", "The client disconnected mid-body")
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            if not message.get("more_body", False):
                body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return body
    except asyncio.CancelledError:
        if not pending.stop(task):
            raise
        raise too_slow() from None
    finally:
        pending.stop(task)
        # what arrived, refused or not, for the request record (`Recorder.finish`)
        scope[BODY] = body if body is not None else b"".join(chunks)


def too_slow() -> PayloadError:
    """The refusal of a body not whole within `BODY_SECONDS`."""
    return PayloadError(
        408, "too_slow", f"The request body did not arrive within {BODY_SECONDS:g} seconds"
    )


def _too_large(limit: int) -> PayloadError:
    return PayloadError(413, "too_large", f"Request body exceeds the limit of {limit} bytes")


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; Python would take them, and pass NaN through ranges.
    raise ValueError(f"{name} is not valid JSON")


def _finite(text: str) -> float:
    # 1e999 is JSON, but Python reads it as infinity, which no JSON can carry onwards.
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"{text} is out of range")
    return number


#: the most digits of a whole number Python reads from text (its default guard)
MAX_DIGITS = 4300


def _whole(text: str) -> int:
    # Python's own refusal would tell the client to call sys.set_int_max_str_digits().
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise ValueError(f"a number of {len(text.lstrip('-'))} digits is out of range")
    return int(text)


#: one decoder for every body (``json.loads`` with hooks builds a new one per call)
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite, parse_int=_whole)
_SCAN = _DECODER.scan_once  # type: ignore[attr-defined]


def _encoding(raw: bytes) -> str:
    """``json.detect_encoding(raw)``, at once for what clients send: a JSON text begins
    with an ASCII character, so in UTF-8 without a byte order mark neither of its first
    two bytes is 0 nor a mark's first byte."""
    if len(raw) >= 2 and 0 < raw[0] < 0x80 and raw[1]:
        return "utf-8"
    return json.detect_encoding(raw)


def _parse(text: str) -> Any:
    """``_DECODER.decode(text)``: the C scanner at once, for a text that is one JSON value
    from its first character to its last (what clients send); any other (blanks around
    it, more after it, not JSON) through the decoder, for its own handling and words."""
    try:
        value, end = _SCAN(text, 0)
    except StopIteration:  # no JSON value where it starts
        return _DECODER.decode(text)
    return value if end == len(text) else _DECODER.decode(text)


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


#: the most JSON values (objects, arrays and list items) one body may hold: a 20 MiB
#: ``[{},{},…]`` would otherwise take the event loop for tens of seconds to read and check
MAX_JSON_VALUES = 200_000


#: the most a JSON text's parsed value weighs per character of it, in bytes (up to 37:
#: ``{"":{"":…}}`` nests a dict of one key every five characters), and the longest body
#: counted at that most rather than by its characters, whose four counts cost a submit
#: 5,600 instructions (2.6 %, issue 17): even at its most such a body's job is far from
#: any budget (20,000 of them: 200 MB)
MOST_BYTES_PER_CHARACTER, SHORT_BODY = 40, 256


def retained_size(scope: Scope) -> int:
    """What the JSON value of the body `read_body` read for the request in ``scope`` (0 if
    none) weighs in memory at most, in bytes, as the retention budgets count a job's input:
    its text, and for each character that can start a value what Python keeps for the
    largest such value, beyond its text (Python 3.11, 64-bit, measured): an object (a small
    dict) 200 bytes, an array 72, an item after a comma (a float, or its slot in a list) 56,
    a string (two quotes) 50. Parsed, a body's values weigh up to 37 times its text
    (``[{},{},…]``: 7.1 MB from 396 KB), which counting the text alone let through."""
    raw = scope.get(BODY, b"")
    if len(raw) <= SHORT_BODY:  # nearly every submit's: its most, uncounted (issue 17)
        return MOST_BYTES_PER_CHARACTER * len(raw)
    counts = scope.get(_COUNTS) or _Counts.of(raw)  # counted once, as `read_json` read it
    # A string holding one character past U+FFFF keeps four bytes for each of its
    # characters: text that is not all ASCII, or escapes one, counts four times over.
    # (``\`` found by memchr first: a search for the pair alone cost a 1 MiB body 1 ms.)
    wide = not raw.isascii() or b"\\" in raw and b"\\u" in raw
    text = 4 * len(raw) if wide else len(raw)
    return text + 200 * counts.objects + 72 * counts.arrays + 56 * counts.items + 25 * counts.quotes


class _Counts(NamedTuple):
    """The characters of a body that may start a JSON value (inside a string too: bounds,
    not measures), counted at memchr speed: each count is a pass over the body."""

    objects: int
    arrays: int
    items: int  # commas
    quotes: int

    @classmethod
    def of(cls, raw: bytes) -> _Counts:
        return cls(raw.count(b"{"), raw.count(b"["), raw.count(b","), raw.count(b'"'))


#: where `read_json` keeps a long body's counts for `retained_size`: a body of 1 MiB was
#: counted in seven passes, more than half of what its submit cost (issue 17)
_COUNTS = "emulator.body_counts"


async def read_json(
    scope: Scope, receive: Receive, *, max_bytes: int, max_depth: int, blank_is_empty: bool = True
) -> Any:
    """The request's JSON value; an empty body reads as ``{}`` as the providers treat it,
    and so does one of only white space unless ``blank_is_empty`` is False."""
    content_type = header(scope, b"content-type")
    if not _is_json_content_type(content_type):
        raise PayloadError(
            415, "content_type", f"Unsupported content type {content_type!r}; send application/json"
        )
    raw = await read_body(scope, receive, max_bytes)
    if not (raw.strip() if blank_is_empty else raw):
        return {}
    if len(raw) > SHORT_BODY:
        counts = scope[_COUNTS] = _Counts.of(raw)
        return decode_json(raw, max_depth=max_depth, counts=counts)
    return decode_json(raw, max_depth=max_depth)


def decode_json(raw: bytes | str, *, max_depth: int, counts: _Counts | None = None) -> Any:
    """A JSON document already read within its size limit, its values and nesting bounded
    before and after parsing (by ``counts``, if counted); `PayloadError` says what is wrong
    with it."""
    if isinstance(raw, str):
        raw = raw.encode()
    # Counted before parsing (a comma in a string counts too: a bound, not a measure).
    if counts is None:
        opening = raw.count(b"{") + raw.count(b"[")
        many = len(raw) > MAX_JSON_VALUES and raw.count(b",") + opening > MAX_JSON_VALUES
    else:
        opening = counts.objects + counts.arrays
        many = counts.items + opening > MAX_JSON_VALUES
    if many:
        raise PayloadError(413, "too_many_values", f"JSON with over {MAX_JSON_VALUES} values")
    try:
        # What json.loads does with bytes (any UTF encoding), then the shared decoder.
        value = _parse(raw.decode(_encoding(raw), "surrogatepass"))
    except RecursionError:
        raise PayloadError(422, "too_deep", f"JSON nested deeper than {max_depth} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(422, "json_invalid", f"JSON decode error: {exc}") from None
    if opening > max_depth:  # fewer brackets than the limit cannot nest beyond it
        check_depth(value, max_depth)
    return value


def check_depth(value: Any, max_depth: int) -> None:
    """`PayloadError` 422 if ``value`` (decoded JSON or msgpack) nests over ``max_depth``."""
    if _depth_exceeds(value, max_depth):
        raise PayloadError(422, "too_deep", f"JSON nested deeper than {max_depth} levels")


def read_payload(scope: Scope, receive: Receive, config: EmulatorConfig) -> Awaitable[Any]:
    """A model input: JSON within the emulator's configured size and nesting limits (to
    await: `read_json`'s own coroutine, no frame around it)."""
    return read_json(
        scope, receive, max_bytes=config.max_body_bytes, max_depth=config.max_json_depth
    )


def query_value(scope: Scope, name: str) -> str | None:
    """The first value of query parameter ``name``; without a query string, None at once
    (parsing an empty one is a visible cost on a submit)."""
    query = scope["query_string"]
    return QueryParams(query).get(name) if query else None


async def receive_reserved(request: Request, storage: Storage, file_id: str) -> StoredFile:
    """A PUT to a reserved file's URL: its bytes, stored. Raises `StorageError` for an
    unknown reservation and `PayloadError` for a body over the limit."""
    data = await read_body(request.scope, request.receive, storage.max_file_bytes)
    # off the event loop: it may write a large file, or wait out a store error
    content_type = request.headers.get("content-type")
    return await run_in_threadpool(storage.fulfil, file_id, data, content_type)
