"""Which call into a provider's SDK sent a request: what the harness tells a failure with.

A client built on ``fal_client`` or ``wavespeed`` retries, polls and resubmits partly by
the SDK's own code: a retry 0.1 s after a 429 may be the SDK's choice, not the user's. As
a request passes the harness's choke point (guard.py), the outermost frame of an SDK on
the stack names the call the user's code made (``fal_client``'s ``SyncClient.subscribe``);
the request carries it to the record in a header of the harness's own. Two requests with
the same call were sent inside one SDK call: what happened between them was the SDK's doing.
"""

from __future__ import annotations

from types import FrameType

from emulator.core.record import RecordedRequest

#: the SDKs whose calls are told apart (their top-level packages)
SDK_PACKAGES = ("fal_client", "wavespeed")
#: the header a request carries its SDK call in, to the record (the harness's, not a client's)
HEADER = "x-provider-emulator-sdk-call"


class SdkCalls:
    """Names the SDK call each request of one client call is sent from. The frames seen are
    kept until `forget`, so that no two calls alive at once get the same name (a name is
    its frame's identity)."""

    def __init__(self) -> None:
        self._frames: dict[int, FrameType] = {}

    def forget(self) -> None:
        self._frames.clear()

    def current(self, frame: FrameType | None) -> str | None:
        """The name of the outermost SDK call ``frame`` is inside, or None (the user's own
        request, or another library's)."""
        outermost = None
        while frame is not None:
            package = frame.f_globals.get("__name__", "").partition(".")[0]
            if package in SDK_PACKAGES:
                outermost = frame
            frame = frame.f_back
        if outermost is None:
            return None
        self._frames.setdefault(id(outermost), outermost)
        package = outermost.f_globals["__name__"].partition(".")[0]
        # a function of its own inside the one called (a task's, where an async SDK
        # starts one: the stack ends there) is named by the one called
        function = outermost.f_code.co_qualname.partition(".<locals>")[0]
        return f"{package} {function} {id(outermost)}"


def sdk_call(entry: RecordedRequest) -> str | None:
    """The SDK call ``entry`` was sent from, as ``"fal_client's SyncClient.subscribe"``."""
    named = entry.headers.get(HEADER)
    if named is None:
        return None
    package, function, _ = named.split(" ")
    return f"{package}'s {function}"


def same_sdk_call(first: RecordedRequest, second: RecordedRequest) -> str | None:
    """The SDK call both requests were sent inside, if one was: the SDK, not the user's
    code, sent the second after the first."""
    named = first.headers.get(HEADER)
    return sdk_call(first) if named is not None and named == second.headers.get(HEADER) else None
