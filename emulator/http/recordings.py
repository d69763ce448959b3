"""Recorded exchanges on disk: scrubbed before writing, checked strictly when read.

One JSON file per exchange, ``DIR/<provider>/<time>-<n>.json``::

    {"surface": "fal/queue", "method": "POST", "path": "/fal-ai/bitdance", "query": "",
     "request": {"headers": {…}, "json": {…}},
     "response": {"status": 200, "headers": {…}, "json": {…} | "base64": "…" | "omitted": N}}

Only allow-listed headers are kept (never ``Authorization``); query parameters and URL
parameters that look like credentials or signatures are redacted everywhere, and the
caller's key is removed from every string. So are the credentials a provider issues (fal's
CDN and realtime tokens, WaveSpeed's webhook secret): a body's credential-named fields,
and anything shaped as a JWT or a ``whsec_`` secret. Recordings are made to be committed,
and a webhook secret lets whoever has it forge the webhooks a handler accepts. Bodies are
in the real hosts' URL form.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.core.atomic_writes import write_atomically

#: the largest media body a recording keeps (bytes)
DEFAULT_MEDIA_CAP = 8 * 2**20

KEPT_REQUEST_HEADERS = ("content-type", "accept", "x-fal-queue-priority", "x-fal-runner-hint")
#: the response headers the official clients read
KEPT_RESPONSE_HEADERS = (
    "content-type",
    "x-fal-request-id",
    "x-fal-error-type",
    "x-fal-retryable",
    "retry-after",
    "etag",
)
REDACTED = "REDACTED"
_SECRET_PARAMETER = re.compile(
    r"([?&;][^=&;\s\"']*(?:signature|token|key|credential|secret|sig|policy|auth)"
    r"[^=&;\s\"']*=)[^&;\s\"']+",
    re.I,
)

#: body fields whose value is a credential, whatever the endpoint (fal's CDN token is
#: ``token``, WaveSpeed's webhook secret ``secret``)
CREDENTIAL_FIELDS = frozenset(
    {"secret", "token", "access_token", "refresh_token", "client_secret", "api_key", "password"}
)
#: credentials by their shape: a JWT (fal's realtime tokens), a webhook secret
_SECRET_SHAPES = re.compile(
    r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+|\bwhsec_[A-Za-z0-9+/=_-]+"
)


class RecordingError(ValueError):
    """Recordings that cannot be written or read."""


def scrub_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without credential-like URL parameters, JWTs and webhook secrets, and
    without any of ``secrets``."""
    text = _SECRET_PARAMETER.sub(lambda m: m[1] + REDACTED, text)
    text = _SECRET_SHAPES.sub(REDACTED, text)
    for secret in secrets:
        if len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text


def without_credentials(value: Any) -> Any:
    """``value`` (a JSON body) with the strings of its credential-named fields redacted."""
    if isinstance(value, dict):
        return {
            name: REDACTED
            if name.lower() in CREDENTIAL_FIELDS and isinstance(item, str)
            else without_credentials(item)
            for name, item in value.items()
        }
    if isinstance(value, list):
        return [without_credentials(item) for item in value]
    return value


def _kept(headers: Iterable[tuple[bytes, bytes]], names: tuple[str, ...]) -> dict[str, str]:
    kept = {}
    for name, value in headers:
        key = name.decode("latin-1").lower()
        if key in names:
            kept[key] = value.decode("latin-1")
    return kept


def body_fields(content: bytes, content_type: str, cap: int) -> dict[str, Any]:
    """How a body is stored: as JSON, as base64 bytes up to ``cap``, or only its size."""
    if "json" in content_type or not content_type:
        try:
            return {"json": json.loads(content)} if content else {}
        except ValueError:
            pass
    if len(content) > cap:
        return {"omitted": len(content)}
    return {"base64": base64.b64encode(content).decode()}


@dataclass(frozen=True)
class Recording:
    """One recorded exchange, read back from its file (the module's docstring has the layout)."""

    provider: str
    surface: str
    method: str
    path: str
    query: str
    request: Mapping[str, Any]
    response: Mapping[str, Any]

    @property
    def status(self) -> int:
        return int(self.response["status"])

    def response_body(self) -> bytes | None:
        """The recorded response bytes, or None when they were not kept."""
        if "json" in self.response:
            return json.dumps(self.response["json"]).encode()
        if "base64" in self.response:
            return base64.b64decode(self.response["base64"])
        return None if "omitted" in self.response else b""


class RecordingStore:
    """A directory of recordings: appended to atomically, read back whole."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._numbers = itertools.count()

    def prepare(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            probe = self.directory / ".writable"
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise RecordingError(f"cannot record into {self.directory}: {exc.strerror}") from None

    def write(
        self,
        provider: str,
        exchange: Mapping[str, Any],
        secrets: Iterable[str] = (),
    ) -> Path:
        scrubbed = without_credentials(exchange)
        text = scrub_text(json.dumps(scrubbed, indent=2, ensure_ascii=False), secrets)
        folder = self.directory / provider
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{time.time_ns()}-{next(self._numbers):06d}.json"
        write_atomically(path, text + "\n")
        return path

    def read(self, surfaces: Collection[str]) -> list[Recording]:
        """Every recording in a provider's folder (``DIR/fal/*.json``…, nothing else: a
        project's ``node_modules/.package-lock.json`` is none), oldest first within its
        provider's folder; `RecordingError` naming the file of one that is unreadable, of
        a surface not among ``surfaces``, or of another provider than its folder's; and
        when there are none, for a replay of nothing would emulate every call unseen."""
        if not self.directory.is_dir():
            raise RecordingError(f"no recordings at {self.directory}")
        providers = sorted({surface.split("/")[0] for surface in surfaces})
        paths = sorted(
            path for name in providers for path in (self.directory / name).glob("*.json")
        )
        if not paths:
            raise RecordingError(self._none_found(providers))
        return [_read_one(path, surfaces) for path in paths]

    def _none_found(self, providers: list[str]) -> str:
        found = f"{self.directory} holds no recordings (read from {self.directory}/PROVIDER/"
        found += f"*.json, PROVIDER one of {', '.join(providers)})"
        if below := self._a_level_down(providers):  # the project's root, say
            found += f": those a level down are read by replaying {' or '.join(below)}"
        elif any(self.directory.glob("*.json")):  # one provider's folder, named itself
            found += f": its own *.json are read by replaying {self.directory.parent}"
        return found

    def _a_level_down(self, providers: list[str]) -> list[str]:
        """The folders within this one that hold recordings in a provider's folder (not
        ``node_modules``, whose ``wavespeed/package.json`` is no recording)."""
        found = {
            path.parent.parent
            for name in providers
            for path in self.directory.glob(f"*/{name}/*.json")
            if _is_recording(path)
        }
        return sorted(map(str, found))


def _is_recording(path: Path) -> bool:
    try:
        return _shape_problem(json.loads(path.read_text(encoding="utf-8"))) is None
    except (OSError, ValueError):
        return False


def _read_one(path: Path, surfaces: Collection[str]) -> Recording:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RecordingError(f"{path}: not a readable recording ({exc!r})") from None
    problem = _shape_problem(data)
    if problem is not None:
        raise RecordingError(f"{path}: not a readable recording: {problem}")
    recording = Recording(path.parent.name, **data)
    if recording.surface not in surfaces:
        known = ", ".join(sorted(surfaces))
        raise RecordingError(f"{path}: surface {recording.surface!r} is none of {known}")
    provider = recording.surface.split("/")[0]
    if provider != recording.provider:
        raise RecordingError(
            f"{path}: a recording of {provider} (surface {recording.surface!r}) in the folder "
            f"{recording.provider}/, where {provider}'s are {path.parent.parent / provider}/"
        )
    return recording


#: a recording's keys, each required, and their types
_FIELDS: dict[str, type] = {
    "surface": str, "method": str, "path": str, "query": str, "request": dict, "response": dict,
}  # fmt: skip
#: the ways a body is kept (at most one; none: an empty body)
_BODIES: dict[str, type] = {"json": object, "base64": str, "omitted": int}
_PARTS: dict[str, dict[str, type]] = {
    "request": {"headers": dict, **_BODIES},
    "response": {"status": int, "headers": dict, **_BODIES},
}
#: what no header name or value may hold (a response could not be sent with it)
_UNSENDABLE = re.compile(r"[\r\n\x00]")


def _shape_problem(data: Any) -> str | None:
    """What keeps ``data`` from being a recording as `RecordingStore.write` writes it, sent
    back as recorded (None: nothing). Strict: a hand-edited or older key (a body kept as
    ``body``) would otherwise be replayed as an empty body."""
    problem = _keys_problem("the recording", data, _FIELDS, set(_FIELDS))
    for part, fields in _PARTS.items():
        if problem is None:
            label, value = f"its {part}", data[part]
            problem = _keys_problem(label, value, fields, {"status", "headers"} & set(fields))
            problem = problem or _content_problem(label, value)
    return problem


def _keys_problem(
    label: str, value: Any, fields: Mapping[str, type], required: set[str]
) -> str | None:
    if not isinstance(value, dict):
        return f"{label} is not an object"
    unknown = sorted(set(value) - set(fields))
    if unknown:
        return f"{label} has the unknown key {unknown[0]!r} (it holds {', '.join(fields)})"
    missing = sorted(required - set(value))
    if missing:
        return f"{label} has no {missing[0]!r}"
    for name, kind in fields.items():
        item = value.get(name)
        if name in value and not _is(item, kind):
            return f"{label}'s {name} is not of type {kind.__name__}: {item!r}"
    return None


def _is(value: Any, kind: type) -> bool:
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def _content_problem(label: str, part: Mapping[str, Any]) -> str | None:
    """Whether a request or response can be sent as recorded: a status of 100 to 599,
    headers of text without line breaks, one body that decodes."""
    status = part.get("status", 200)
    if not 100 <= status <= 599:
        return f"{label}'s status {status!r} is no HTTP status"
    if not all(
        isinstance(k, str) and isinstance(v, str) and not _UNSENDABLE.search(k + v)
        for k, v in part["headers"].items()
    ):
        return f"{label}'s headers must be names and values of text, without line breaks"
    bodies = [name for name in _BODIES if name in part]
    if len(bodies) > 1:
        return f"{label} keeps its body more than one way ({' and '.join(bodies)})"
    if part.get("omitted", 0) < 0:
        return f"{label}'s omitted size {part['omitted']} is less than 0"
    try:
        base64.b64decode(part.get("base64", ""), validate=True)
    except binascii.Error as exc:
        return f"{label}'s base64 does not decode ({exc})"
    return None


def request_headers(headers: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    return _kept(headers, KEPT_REQUEST_HEADERS)


def response_headers(headers: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    return _kept(headers, KEPT_RESPONSE_HEADERS)
