"""Intercepting the clients' WebSockets: the `websockets` library, which fal_client's
``realtime`` and ``ws_connect`` use (its sync client and its asyncio ``connect``).

While started, a WebSocket to a provider host (``wss://fal.run/…``) opens over a socket
pair instead of the network. The client's end goes to the library's own ``connect`` as
its ``sock``, so the handshake, the framing and the closing handshake are the library's,
unchanged; the other end is served by uvicorn's protocol running the emulator's app (the
server stack of ``serve``) on the dispatcher's event-loop thread. No name is resolved and
no connection leaves the process. The scheme becomes ``ws`` (the pair needs no TLS); the
``Host`` stays the provider's, which the app's host middleware maps to its surface.

Any other host raises `UnmatchedRequest`, or with ``unmatched="pass"`` connects as usual.

What is patched is each module's ``connect``, so a ``connect`` bound by name before the
emulation started (``from websockets.sync.client import connect`` at a module's top) is
the library's own. It cannot be routed here: through websockets 17.0 the sync ``connect``
is a plain function that opens its socket and its TLS itself, with the ``socket`` and
``ssl`` modules. Both modules' connects parse their URI first, though, before any name is
resolved: while started, their ``parse_uri`` refuses a provider host that did not come
through here (`NotIntercepted`), so such a call fails loudly instead of reaching the
real provider. Other hosts are left alone.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any
from unittest import mock
from urllib.parse import urlsplit, urlunsplit

from emulator.config import UvicornOptions
from emulator.transport.asgi import AppDispatcher
from emulator.transport.unmatched import is_provider_host

#: connection options that only apply to a TLS (``wss``) connection over the network
_TLS_OPTIONS = ("ssl", "server_hostname")


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
            import websockets.asyncio.client
            import websockets.sync.client
        except ImportError:  # no websockets, no client that could use it
            return
        sync_connect = websockets.sync.client.connect
        async_connect = websockets.asyncio.client.connect
        self._patches = [
            mock.patch.object(websockets.sync.client, "connect", self._wrap(sync_connect)),
            mock.patch.object(websockets.asyncio.client, "connect", self._wrap(async_connect)),
            mock.patch.object(websockets, "connect", self._wrap(async_connect)),
        ]
        for client in (websockets.sync.client, websockets.asyncio.client):
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
            kwargs["sock"] = self._socket_to_app()
            return connect(_InProcessURI(urlunsplit(("ws", *parts[1:]))), *args, **kwargs)

        return intercepted

    def _socket_to_app(self) -> socket.socket:
        """The client's end of a socket pair whose other end the app serves."""
        client, server = socket.socketpair()
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
