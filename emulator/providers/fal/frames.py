"""The frames of fal's realtime WebSocket: msgpack, or JSON where the client asks for it.

Both official clients send each input as one binary msgpack frame and decode binary frames
with msgpack (fal_client ``msgpack_encode_message``, @fal-ai/client ``encodeRealtimeMessage``).
A client that sends JSON text frames instead (both clients take a custom encoder) is
answered in JSON text. fal's control messages (``x-fal-error``, ``x-fal-message``) are always
JSON text, as fal's realtime app template sends them.

msgpack is imported with the first binary frame: a server or an emulation that opens no
realtime session does without it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, NamedTuple

from emulator.http.bodies import MAX_JSON_VALUES, PayloadError, check_depth, decode_json

#: WebSocket close codes (RFC 6455, 7.4.1)
NORMAL_CLOSURE = 1000
UNSUPPORTED_DATA = 1003
MESSAGE_TOO_BIG = 1009
INTERNAL_ERROR = 1011


class BadFrame(Exception):
    """A frame that is not an input: the session answers with an error and closes."""

    def __init__(self, close_code: int, reason: str) -> None:
        super().__init__(reason)
        self.close_code = close_code
        self.reason = reason


class Input(NamedTuple):
    """One realtime input frame decoded, and whether it came as JSON text."""

    payload: dict[str, Any]
    as_text: bool  # it came as JSON text, so its answer goes back as JSON text
    size: int = 0  # the frame's bytes (a text frame's in UTF-8, not its characters)


#: the scalars a msgpack input may hold: JSON's, and bytes (``RawImage`` content)
_INPUT_SCALARS = (str, int, float, bool, bytes, type(None))


def _refuse_extension(code: int, data: bytes) -> Any:
    raise ValueError(f"msgpack extension type {code} is not an input value")


def _input_values(value: Any) -> None:
    """Refuse what msgpack reads but no input holds (JSON, or bytes for ``RawImage``): a
    NaN or an infinity, a map key that is not a string (bytes keys pass msgpack's
    ``strict_map_key``), a timestamp (msgpack's own extension, which no ``ext_hook`` sees):
    the last two failed in the request record's JSON, a bug's 1011 for a bad frame's 1003."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"{item} is not a number an input may hold")
        if isinstance(item, dict):
            for key in item:
                if not isinstance(key, str):
                    raise ValueError(f"a map key must be a string, not {type(key).__name__}")
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif not isinstance(item, _INPUT_SCALARS):
            raise ValueError(f"{type(item).__name__} is not a value an input may hold")


def _unpack(frame: bytes, max_depth: int) -> Any:
    """A msgpack frame's value, holding at most as many values as a JSON body may: each
    container is bounded as it is read, and the hooks count them all (one byte makes a
    ``{}``: a 20 MiB frame of them made 3 GB of dicts and held the event loop 26 s)."""
    import msgpack

    counted = 0

    def counting(container: Any) -> Any:
        nonlocal counted
        counted += len(container)
        if counted > MAX_JSON_VALUES:
            raise ValueError(f"over {MAX_JSON_VALUES} values")
        return container

    try:
        value = msgpack.unpackb(
            frame,
            raw=False,
            ext_hook=_refuse_extension,
            max_array_len=MAX_JSON_VALUES,
            max_map_len=MAX_JSON_VALUES,
            list_hook=counting,
            object_hook=counting,
        )
        _input_values(value)
    except (ValueError, msgpack.UnpackException, TypeError) as exc:
        why = str(exc) or type(exc).__name__  # some of msgpack's errors say nothing
        raise BadFrame(UNSUPPORTED_DATA, f"The frame is not a msgpack message: {why}") from None
    check_depth(value, max_depth)
    return value


def decode_input(message: Mapping[str, Any], *, max_bytes: int, max_depth: int) -> Input:
    """The input an ASGI ``websocket.receive`` message carries; `BadFrame` if none."""
    data, text = message.get("bytes"), message.get("text")
    size = len(data) if data is not None else len((text or "").encode())
    if size > max_bytes:
        raise BadFrame(MESSAGE_TOO_BIG, f"The frame of {size} bytes exceeds {max_bytes} bytes")
    try:
        if data is not None:
            value = _unpack(data, max_depth)
        else:
            value = decode_json(text or "", max_depth=max_depth)
    except PayloadError as error:
        raise BadFrame(UNSUPPORTED_DATA, error.message) from None
    if not isinstance(value, dict):
        raise BadFrame(UNSUPPORTED_DATA, f"An input must be a map, not {type(value).__name__}")
    return Input(value, as_text=data is None, size=size)


def encode_output(output: dict[str, Any], as_text: bool) -> dict[str, Any]:
    """The ASGI ``websocket.send`` message carrying one result."""
    if as_text:
        return {"type": "websocket.send", "text": json.dumps(output, separators=(",", ":"))}
    import msgpack

    return {"type": "websocket.send", "bytes": msgpack.packb(output, use_bin_type=True)}


def error_message(error: str, reason: str) -> dict[str, Any]:
    """fal's realtime error, as its app template sends it: a JSON text frame."""
    body = {"type": "x-fal-error", "error": error, "reason": reason}
    return {"type": "websocket.send", "text": json.dumps(body, separators=(",", ":"))}
