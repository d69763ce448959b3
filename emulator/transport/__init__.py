"""In-process emulation: the clients' own HTTP answered by the emulator's app, no sockets."""

from emulator.transport.asgi import AppDispatcher
from emulator.transport.intercept import Interception
from emulator.transport.unmatched import UnmatchedRequest

__all__ = ["AppDispatcher", "Interception", "UnmatchedRequest"]
