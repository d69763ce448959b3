"""The request record as the dashboard shows it: filtered, newest first, as curl."""

from __future__ import annotations

import re
import shlex
import uuid
from collections.abc import Mapping

from emulator.core.engine import Engine
from emulator.core.record import SECRET_HEADERS, RecordedRequest
from emulator.core.registry import LAYOUTS

#: headers a curl command sets itself, or that would be wrong to replay
_LEFT_OUT = frozenset({"host", "content-length", "connection", "accept-encoding"})
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,31}")


def _status(text: str) -> int | None:
    """An HTTP status to filter by, from a query string; None for anything that is not
    three ASCII digits (``isdigit`` takes "²", which ``int`` refuses)."""
    return int(text) if len(text) == 3 and text.isascii() and text.isdigit() else None


def newest_requests(engine: Engine, asked: Mapping[str, str]) -> list[RecordedRequest]:
    """The recorded requests matching the filters ``asked`` (query parameters), newest
    first; ``job`` matches either form of a job's id in the path (with or without dashes)."""
    criteria = {
        name: asked[name] for name in ("provider", "endpoint", "key", "path") if asked.get(name)
    }
    if criteria.get("provider") not in (None, *LAYOUTS):
        return []  # no provider's requests: the record's filter refuses the name
    status = asked.get("status", "")
    entries = list(engine.record.filter(**criteria, status=_status(status)))
    job = asked.get("job", "")
    if job:
        forms = _id_forms(job)
        entries = [e for e in entries if any(form in e.path for form in forms)]
    entries.reverse()
    return entries


def _id_forms(job_id: str) -> set[str]:
    """``job_id`` with and without dashes (a WaveSpeed path has none, a fal path has them)."""
    forms = {job_id, job_id.replace("-", "")}
    try:
        forms.add(str(uuid.UUID(job_id)))
    except ValueError:
        pass  # not a job's id: matched as it is
    return forms


def as_curl(entry: RecordedRequest, origin: str) -> str:
    """A curl command repeating ``entry`` against this server; credentials (recorded
    masked) become ``$API_KEY``, expanded by the shell that runs it."""
    url = origin + entry.path + (f"?{entry.query}" if entry.query else "")
    words = ["curl", "-X", entry.method, shlex.quote(url)]
    for name, value in entry.headers.items():
        if name in _LEFT_OUT:
            continue
        if name in SECRET_HEADERS:
            scheme = value.rpartition(" ")[0]
            # Only a plain scheme word may stand inside the double quotes: no shell syntax.
            words += [
                "-H",
                f'"{name}: {scheme} $API_KEY"'
                if _SCHEME.fullmatch(scheme)
                else f'"{name}: $API_KEY"',
            ]
            continue
        words += ["-H", shlex.quote(f"{name}: {value}")]
    if entry.body:
        try:
            text = entry.body.decode()
        except UnicodeDecodeError:
            text = None
        if text is not None and not entry.truncated:
            words += ["--data-binary", shlex.quote(text)]
        else:
            words.append("# (a body that is not text, or was cut at the record's limit)")
    return " ".join(words)


def body_text(entry: RecordedRequest) -> str:
    """The recorded body as text to show: decoded, or a note of its size."""
    try:
        text = entry.body.decode()
    except UnicodeDecodeError:
        return f"({entry.body_size:,} bytes, not text)"
    return text + (f"\n… ({entry.body_size:,} bytes in all)" if entry.truncated else "")
