"""The emulator on a real loopback port, in a background thread, for tests and scripts.

    with BackgroundServer() as server:
        requests.get(server.url + "/_emulator/health")

Starting and stopping are both bounded in time; the port is chosen by the OS.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from emulator.app import create_app
from emulator.config import EmulatorConfig
from emulator.core.engine import Engine
from emulator.http_protocol import BoundedHeadProtocol
from emulator.logs import filter_uvicorn_logs
from emulator.tls import TLSFiles


class BackgroundServer:
    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        engine: Engine | None = None,
        host: str = "127.0.0.1",
        start_timeout: float = 10.0,
        tls: TLSFiles | None = None,
    ) -> None:
        """With ``tls`` (see `emulator.tls.ensure_tls`) it serves HTTPS."""
        self._owns_engine = engine is None
        self.engine = engine or Engine(config)
        self.host = host
        self.start_timeout = start_timeout
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, 0))
        self.port: int = self._socket.getsockname()[1]
        self.engine.webhooks.own_ports.add(self.port)
        self.tls = tls
        certificates: dict[str, Any] = (
            {"ssl_certfile": str(tls.certificate), "ssl_keyfile": str(tls.key)} if tls else {}
        )
        self._server = uvicorn.Server(
            uvicorn.Config(
                create_app(engine=self.engine),
                log_level="warning",
                lifespan="off",
                http=BoundedHeadProtocol,
                **self.engine.config.uvicorn_options,
                **certificates,
            )
        )
        filter_uvicorn_logs()
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def start(self) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + self.start_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the emulator did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._socket.close()
        if self._owns_engine:
            self.engine.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
