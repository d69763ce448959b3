"""TLS mode: a local CA and a certificate for localhost, made once and reused.

For clients that take only a host name, like ``fal_client`` through ``FAL_RUN_HOST`` and
``FAL_QUEUE_RUN_HOST`` (it always prepends ``https://``). ``provider-emulator env`` prints
the environment that points such a client at an emulator served with ``--tls``.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from emulator.clients import FAKE_CREDENTIALS

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


def ensure_tls(directory: Path | None = None) -> TLSFiles:
    """The CA and server certificate in ``directory``, created on first use."""
    files = TLSFiles.in_directory(directory or DEFAULT_TLS_DIR)
    if files.ca.exists() and files.certificate.exists() and files.key.exists():
        return files
    try:
        import trustme
    except ImportError:
        raise SystemExit("TLS mode needs trustme: pip install 'provider-emulator[tls]'") from None
    files.ca.parent.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA(organization_name="provider-emulator local CA")
    issued = authority.issue_cert("localhost", "127.0.0.1", "::1")
    authority.cert_pem.write_to_path(str(files.ca))
    files.certificate.write_bytes(b"".join(pem.bytes() for pem in issued.cert_chain_pems))
    files.key.touch(mode=0o600)
    issued.private_key_pem.write_to_path(str(files.key))
    return files


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
