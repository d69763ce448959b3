"""Intercepting the clients' WebSockets: the `websockets` library, which fal_client's
``realtime`` and ``ws_connect`` use (its sync client and ``websockets.connect``), at every
version fal_client accepts (12.0 on).

While started, a WebSocket to a provider host (``wss://fal.run/…``) opens over a socket
pair instead of the network. The client's end goes to the library's own ``connect`` as
its ``sock``, so the handshake, the framing and the closing handshake are the library's,
unchanged; the other end is served by uvicorn's protocol running the emulator's app (the
server stack of ``serve``) on the dispatcher's event-loop thread. No name is resolved and
no connection leaves the process. The scheme becomes ``ws`` (the pair needs no TLS); the
``Host`` stays the provider's, which the app's host middleware maps to its surface.

Any other host raises `UnmatchedRequest`, or with ``unmatched="pass"`` connects as usual.

What is patched is ``websockets.connect``, whichever it is, and the ``connect`` of each
client module there is: the sync one, the asyncio one (13.0 on), the legacy one where it
is loaded (``websockets.connect`` through 13.x; deprecated since 14.0). So a ``connect``
bound by name before the emulation started (``from websockets.sync.client import connect``
at a module's top) is the library's own. It cannot be routed here: through websockets 17.0
the sync ``connect`` is a plain function that opens its socket and its TLS itself, with
the ``socket`` and ``ssl`` modules. Every module's connect parses its URI first, though,
before any name is resolved: while started, its ``parse_uri`` refuses a provider host
that did not come through here (`NotIntercepted`), so such a call fails loudly instead of
reaching the real provider. Other hosts are left alone.
"""

from __future__ import annotations

import asyncio
import importlib
import socket
import sys
from collections.abc import Callable
from typing import Any
from unittest import mock
from urllib.parse import urlsplit, urlunsplit

from emulator.config import UvicornOptions
from emulator.transport.asgi import AppDispatcher
from emulator.transport.unmatched import is_provider_host

#: connection options that only apply to a TLS (``wss``) connection over the network
#: (``ssl_context``: the sync client's name for ``ssl`` in websockets 12)
_TLS_OPTIONS = ("ssl", "ssl_context", "server_hostname")


class NotIntercepted(RuntimeError):
    """A provider WebSocket opened, during an emulation, by a ``connect`` the emulation
    cannot reach: one imported by name before it started. Not an `OSError`, which the
    library's reconnecting loops would retry for ever."""

    def __init__(self, module: str, uri: str) -> None:
        super().__init__(
            f"provider-emulator: a WebSocket to {uri} by a connect imported by name from "
            f"{module} before the emulation started (`from {module} import connect`) is "
            "not intercepted, and would reach the real provider: import the module instead "
            f"(`import {module}`) and call `{module}.connect`"
        )


class _InProcessURI(str):
    """A URI this interception gives the library's ``connect`` with its own socket: the
    only kind of provider URI the guarded ``parse_uri`` lets through, and one that an
    emulation outside a nested one passes on as it is."""


class WebSocketInterception:
    """While started, WebSockets to provider hosts are served by ``dispatcher``'s app."""

    def __init__(
        self,
        dispatcher: AppDispatcher,
        *,
        refuse: Callable[[str, str], Exception] | None,
        uvicorn_options: UvicornOptions,
    ) -> None:
        """``refuse(method, url)``: the error for a host the emulator does not stand for
        (None lets such connections through); ``uvicorn_options``: the settings' options
        of uvicorn (`EmulatorConfig.uvicorn_options`), as ``serve`` runs with them."""
        self.dispatcher = dispatcher
        self.refuse = refuse
        self.uvicorn_options = uvicorn_options
        self._patches: list[Any] = []
        self._server: Any = None  # uvicorn's config and server state, made on first use

    def start(self) -> None:
        try:
            import websockets
            import websockets.sync.client
        except ImportError:  # no websockets (or one before 12.0, which fal_client refuses)
            return
        top_level = websockets.connect  # through 13.x the legacy client's: this loads it
        self._patches = [mock.patch.object(websockets, "connect", self._wrap(top_level))]
        for client in _client_modules():
            self._patches.append(mock.patch.object(client, "connect", self._wrap(client.connect)))
            if hasattr(client, "parse_uri"):  # a later version may parse elsewhere
                guarded = _guarded(client.parse_uri, client.__name__)
                self._patches.append(mock.patch.object(client, "parse_uri", guarded))
        for patch in self._patches:
            patch.start()

    def stop(self) -> None:
        for patch in reversed(self._patches):
            patch.stop()
        self._patches = []
        if self._server is not None:
            _, state = self._server
            try:
                self.dispatcher.run_soon(_shut(state)).result(5)
            except RuntimeError:  # the dispatcher already ended, and its sockets with it
                pass
            self._server = None

    def _wrap(self, connect: Callable[..., Any]) -> Callable[..., Any]:
        def intercepted(uri: str, *args: Any, **kwargs: Any) -> Any:
            if isinstance(uri, _InProcessURI):  # routed by an emulation nested in this one
                return connect(uri, *args, **kwargs)
            parts = urlsplit(uri)
            if not is_provider_host(parts.hostname):
                if self.refuse is not None:
                    raise self.refuse("WebSocket", uri)
                return connect(uri, *args, **kwargs)
            for option in _TLS_OPTIONS:
                kwargs.pop(option, None)
            kwargs["sock"] = sock = self._socket_to_app()
            try:
                return connect(_InProcessURI(urlunsplit(("ws", *parts[1:]))), *args, **kwargs)
            except BaseException:  # refused its arguments before it took the socket
                sock.close()
                raise

        return intercepted

    def _socket_to_app(self) -> socket.socket:
        """The client's end of a socket pair whose other end the app serves."""
        pair, server = socket.socketpair()
        client = _PairSocket(pair.family, pair.type, pair.proto, pair.detach())
        server.setblocking(False)
        config, state = self._uvicorn()

        async def serve() -> None:
            def protocol() -> asyncio.Protocol:
                return config.http_protocol_class(config=config, server_state=state, app_state={})

            await asyncio.get_running_loop().connect_accepted_socket(protocol, server)

        try:
            self.dispatcher.run_soon(serve()).result(5)
        except BaseException:
            client.close()
            server.close()
            raise
        return client

    def _uvicorn(self) -> tuple[Any, Any]:
        if self._server is None:
            import uvicorn
            from uvicorn.server import ServerState

            # log_config=None: the emulation must not reconfigure the process's logging.
            config = uvicorn.Config(
                self.dispatcher.app,
                lifespan="off",
                log_config=None,
                access_log=False,
                proxy_headers=False,
                **self.uvicorn_options,  # frames read up to the same size as serve reads
            )
            config.load()
            self._server = (config, ServerState())
        return self._server


class _PairSocket(socket.socket):
    """The client's end of the pair, which takes TCP options as a no-op. The sync client
    through websockets 16.0 turns Nagle's algorithm off (``TCP_NODELAY``) on any socket it
    is given that it was not told is a Unix one, and a Unix socket refuses TCP options
    (``EOPNOTSUPP``); it has no Nagle's algorithm to turn off."""

    def setsockopt(self, level: int, optname: int, *value: Any) -> None:
        if level != socket.IPPROTO_TCP:
            super().setsockopt(level, optname, *value)


def _client_modules() -> list[Any]:
    """The modules of websockets with a ``connect`` of their own: the sync client, the
    asyncio one (13.0 on), and the legacy one where it is loaded (importing it warns from
    14.0 on; through 13.x ``websockets.connect`` is its, and ``websockets.client`` holds
    its ``connect`` too)."""
    import websockets.client
    import websockets.sync.client

    clients = [websockets.sync.client]
    try:
        clients.append(importlib.import_module("websockets.asyncio.client"))
    except ImportError:  # websockets.asyncio is 13.0's
        pass
    if "websockets.legacy.client" in sys.modules:
        clients.append(sys.modules["websockets.legacy.client"])
    if "connect" in vars(websockets.client):
        clients.append(websockets.client)
    return clients


def _guarded(parse_uri: Callable[..., Any], module: str) -> Callable[..., Any]:
    """``parse_uri`` as ``module``'s connect calls it, before it resolves a name: a provider
    URI not given by this interception raises `NotIntercepted`."""

    def parse(uri: str, *args: Any, **kwargs: Any) -> Any:
        parsed = parse_uri(uri, *args, **kwargs)
        if is_provider_host(parsed.host) and not isinstance(uri, _InProcessURI):
            raise NotIntercepted(module, uri)
        return parsed

    return parse


async def _shut(state: Any) -> None:
    """Close every connection still open, as uvicorn does when it shuts down."""
    for connection in list(state.connections):
        connection.shutdown()
    await asyncio.sleep(0)
