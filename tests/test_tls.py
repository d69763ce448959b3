"""TLS mode's files: made once, whole, by one process of several starting at once."""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path
from typing import Any

import pytest

from emulator import tls
from emulator.tls import TLSFiles, ensure_tls


def _handshakes(files: TLSFiles) -> bool:
    """Whether a client trusting ``files.ca`` completes a handshake with a server of
    ``files.certificate`` and ``files.key``, over a real loopback socket."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(files.certificate, files.key)
    client = ssl.create_default_context(cafile=str(files.ca))
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(5)

        def serve() -> None:
            connection, _ = listener.accept()
            try:
                with server.wrap_socket(connection, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass  # the client refused the certificate: what the caller is told

        serving = threading.Thread(target=serve)
        serving.start()
        try:
            with socket.create_connection(listener.getsockname(), timeout=5) as raw:
                with client.wrap_socket(raw, server_hostname="localhost"):
                    return True
        except ssl.SSLCertVerificationError:
            return False
        finally:
            serving.join(5)


def test_the_files_made_serve_a_handshake_the_ca_trusts(tmp_path: Path) -> None:
    assert _handshakes(ensure_tls(tmp_path / "tls"))


def test_a_process_starting_while_another_makes_them_waits_and_takes_its_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first maker is held after writing its certificate: a second one meanwhile
    wrote its own three files (a CA beside which the first's certificate then landed),
    and no client trusted the server until the folder was deleted. (Two threads: each
    opens the lock file for itself, so they hold its lock as two processes would.)"""
    held, go = threading.Event(), threading.Event()
    write_atomically = tls.write_atomically

    def writing(path: Path, data: Any, **options: Any) -> None:
        write_atomically(path, data, **options)
        if "server.pem" in path.name and threading.current_thread().name == "first":
            held.set()
            go.wait(10)

    monkeypatch.setattr(tls, "write_atomically", writing)
    directory = tmp_path / "tls"
    first = threading.Thread(target=ensure_tls, args=(directory,), name="first")
    second = threading.Thread(target=ensure_tls, args=(directory,), name="second")
    first.start()
    try:
        assert held.wait(10)
        second.start()
        second.join(0.5)  # it waits for the first's lock (or, unlocked, made its own)
    finally:
        go.set()
        first.join(10)
        second.join(10)
    assert _handshakes(TLSFiles.in_directory(directory))
