"""TLS mode: a local CA and a certificate for localhost, made once and reused.

For clients that take only a host name, like ``fal_client`` through ``FAL_RUN_HOST`` and
``FAL_QUEUE_RUN_HOST`` (it always prepends ``https://``). ``provider-emulator env`` prints
the environment that points such a client at an emulator served with ``--tls``.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

from emulator.clients import FAKE_CREDENTIALS
from emulator.core.atomic_writes import write_atomically

DEFAULT_TLS_DIR = (
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "provider-emulator" / "tls"
)


@dataclass(frozen=True)
class TLSFiles:
    ca: Path  # what clients trust
    certificate: Path  # the server's chain
    key: Path

    @classmethod
    def in_directory(cls, directory: Path) -> TLSFiles:
        return cls(directory / "ca.pem", directory / "server.pem", directory / "server.key")

    def whole(self) -> bool:
        """Whether all three are there."""
        return self.ca.exists() and self.certificate.exists() and self.key.exists()


def ensure_tls(directory: Path | None = None) -> TLSFiles:
    """The CA and server certificate in ``directory``, created on first use.

    Several processes may start at once on a machine without them (a team's CI jobs):
    one makes them, under a lock, and each file appears whole, the CA last. Without
    that, one process's CA could sit beside another's certificate, and every client
    refuse the server until the folder was deleted."""
    files = TLSFiles.in_directory(directory or DEFAULT_TLS_DIR)
    if files.whole():
        return files
    try:
        import trustme
    except ImportError:
        raise SystemExit("TLS mode needs trustme: pip install 'provider-emulator[tls]'") from None
    files.ca.parent.mkdir(parents=True, exist_ok=True)
    with _locked(files.ca.parent / ".lock"):
        if files.whole():  # made by another process meanwhile
            return files
        authority = trustme.CA(organization_name="provider-emulator local CA")
        issued = authority.issue_cert("localhost", "127.0.0.1", "::1")
        write_atomically(files.key, issued.private_key_pem.bytes())
        chain = b"".join(pem.bytes() for pem in issued.cert_chain_pems)
        write_atomically(files.certificate, chain, mode=0o644)
        write_atomically(files.ca, authority.cert_pem.bytes(), mode=0o644)
    return files


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` between processes (none where the system has no
    ``fcntl``: Windows)."""
    with path.open("a") as held:
        if fcntl is not None:
            fcntl.flock(held, fcntl.LOCK_EX)
        yield  # (the lock goes with the file's closing)


def client_environment(port: int, files: TLSFiles, host: str = "localhost") -> dict[str, str]:
    """What to export so the clients reach an emulator served with ``--tls`` on ``port``."""
    origin = f"{host}:{port}"
    return {
        "FAL_RUN_HOST": f"{origin}/fal/run",
        "FAL_QUEUE_RUN_HOST": f"{origin}/fal/queue",
        "SSL_CERT_FILE": str(files.ca),  # httpx (fal_client) and Python's ssl
        "REQUESTS_CA_BUNDLE": str(files.ca),  # requests (the wavespeed SDK)
        "NODE_EXTRA_CA_CERTS": str(files.ca),  # Node's fetch
        # The clients refuse to send anything without a key; the emulator takes any.
        **FAKE_CREDENTIALS,
    }


def as_exports(environment: dict[str, str]) -> str:
    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in environment.items())
