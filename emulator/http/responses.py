"""Response plumbing shared by the providers."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

#: Routes take every method so that a wrong one is answered in the provider's format.
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

_ENCODER = json.JSONEncoder(separators=(",", ":"))
# ``JSONEncoder.encode`` makes its C encoder afresh on every call: one, made once, encodes
# the same text (every answer is a tree: no check for cycles is needed).
_ENCODE = (
    json.encoder.c_make_encoder(  # type: ignore[attr-defined]
        None,
        _ENCODER.default,
        json.encoder.encode_basestring_ascii,
        None,
        ":",
        ",",
        False,
        False,
        True,
    )
    if json.encoder.c_make_encoder is not None  # type: ignore[attr-defined]
    else None
)


def encode_json(body: Any) -> bytes:
    if _ENCODE is None:  # a Python without the C accelerator
        return _ENCODER.encode(body).encode()
    return "".join(_ENCODE(body, 0)).encode()


def json_fragment(text: str) -> bytes:
    """``text`` as `encode_json` writes it inside a string, without the quotes: for answers
    put together from parts encoded once (a base URL, kept by its caller) and parts that
    need no escaping (an id's hex digits), where encoding the whole body costs more than the
    rest of a submit."""
    return json.encoder.encode_basestring_ascii(text)[1:-1].encode()


Handler = Callable[[Request], Awaitable[Response]]


#: raw ASGI headers: (lower-case name, value) pairs of bytes
RawHeaders = tuple[tuple[bytes, bytes], ...]


def raw_headers(headers: Mapping[str, str] | None) -> RawHeaders:
    return tuple(
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()
    )


def json_headers(encoded: bytes, extra: RawHeaders = ()) -> RawHeaders:
    """Every header of a JSON answer with body ``encoded``: kept, they can be reused."""
    return (
        (b"content-type", b"application/json"),
        (b"content-length", str(len(encoded)).encode()),
        *extra,
    )


class _JSONResponse(Response):
    """A JSON response built without Starlette's general header handling (a hot path)."""

    def __init__(self, encoded: bytes, status: int, headers: RawHeaders) -> None:
        self.status_code = status
        self.body = encoded
        self.background = None
        self.raw_headers = list(headers)


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """``body`` as JSON; pass ``bytes`` already encoded with `encode_json` to reuse them."""
    encoded = body if isinstance(body, bytes) else encode_json(body)
    return _JSONResponse(encoded, status, json_headers(encoded, raw_headers(headers)))


def encoded_json_response(encoded: bytes, status: int, headers: RawHeaders) -> Response:
    """A JSON answer whose body and headers (`json_headers`) were encoded once, for polls
    that repeat them."""
    return _JSONResponse(encoded, status, headers)


class QuickAnswer(NamedTuple):
    """A whole answer made without waiting for anything, and the endpoint it was for."""

    status: int
    headers: RawHeaders
    body: bytes
    endpoint: str


#: a GET request's quick answer, from its scope and its path below its route's prefix;
#: None when the request needs its handler (`HandlerApp.quick`)
Quick = Callable[[Scope, str], QuickAnswer | None]
#: a POST request's response, from its scope (its path parameters set) and its receive
#: (`HandlerApp.post`)
Posted = Callable[[Scope, Receive], Awaitable[Response]]


class HandlerApp:
    """An ASGI endpoint around ``handler`` that turns known exceptions into responses.

    Starlette would wrap a plain handler in two more layers per request; on the status
    poll, the hot path, those layers cost more than the handler itself. ``answer`` maps an
    exception to the provider's error response, or returns None to let it propagate.
    ``quick``, if given, answers the requests it can from memory alone, exactly as
    ``handler`` would, and before the gateway builds the layers a handler needs (`Gateway`).
    ``post``, if given, answers the POST requests instead of ``handler``, from the ASGI
    scope and ``receive`` themselves: a submit, the hot path, builds no `Request`.

    ``handler`` reads a request's body with `bodies.read_body`, which keeps it in the scope
    for the request record: the gateway records a request to a `HandlerApp` from there and
    from `respond`'s status, without watching its messages (`Recorder.finish`).
    """

    def __init__(
        self,
        handler: Handler,
        answer: Callable[[Exception], Response | None],
        *,
        quick: Quick | None = None,
        post: Posted | None = None,
    ) -> None:
        self.handler = handler
        self.answer = answer
        self.quick = quick
        self.post = post

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.respond(scope, receive)
        await response(scope, receive, send)

    async def respond(self, scope: Scope, receive: Receive) -> Response:
        """The response to the request in ``scope``, not yet sent."""
        try:
            if self.post is not None and scope["method"] == "POST":
                return await self.post(scope, receive)
            return await self.handler(Request(scope, receive))
        except Exception as error:
            answered = self.answer(error)
            if answered is None:
                raise
            return answered
