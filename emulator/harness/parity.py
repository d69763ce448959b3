"""Parity: a snapshot's request replayed against the emulator (or the live provider), and
the two exchanges compared after normalisation.

URLs are put in the real hosts' form first (``http://127.0.0.1:PORT/fal/queue/…`` →
``https://queue.fal.run/…``), so that an emulator on any port, or the real provider,
compare equal.
"""

from __future__ import annotations

import json
from pathlib import Path

from emulator.harness.calls import Caller, Exchange, Step
from emulator.harness.live import LiveSession
from emulator.harness.snapshots import Snapshot, SnapshotError, compare, snapshot_of
from emulator.http.upstream import Upstreams
from emulator.providers.registry import CANONICAL_HOSTS

__all__ = [
    "LIVE_SUFFIX",
    "OLD_LIVE_RECORD",
    "canonical",
    "find_snapshots",
    "is_live_record",
    "live_record_path",
    "record_live",
    "replay",
]

_REPLAY_KEY = "parity-replay"


def canonical(exchange: Exchange, upstreams: Upstreams) -> Exchange:
    """``exchange`` with every overridden base URL written as the real host's."""
    text = json.dumps([[s.method, s.url, s.status, s.headers, s.body] for s in exchange.steps])
    for surface in sorted(upstreams.canonical, key=len, reverse=True):
        real = f"https://{upstreams.canonical[surface]}"
        text = text.replace(upstreams.base(surface), real)
    steps = [Step(*values) for values in json.loads(text)]
    return Exchange(exchange.provider, exchange.endpoint, exchange.arguments, steps)


def replay(snapshot: Snapshot, emulator_url: str, *, timeout: float = 30.0) -> list[str]:
    """Replay ``snapshot``'s request against the emulator at ``emulator_url``; the
    undeclared differences."""
    upstreams = Upstreams.parse(CANONICAL_HOSTS, [emulator_url])
    caller = Caller(snapshot.provider, upstreams, _REPLAY_KEY, timeout=timeout, poll_interval=0.01)
    try:
        exchange = caller.run(snapshot.endpoint, snapshot.arguments)
    finally:
        caller.close()
    return compare(snapshot, canonical(exchange, upstreams))


#: how a live run's record of a snapshot's request is named, beside that snapshot:
#: ``docs-example.json`` → ``docs-example.live.json``
LIVE_SUFFIX = ".live.json"
#: what every live record was named before (one per folder: a second snapshot's run
#: overwrote the first's); still replayed, and replaced by the next live run of its source
OLD_LIVE_RECORD = "live.json"


def is_live_record(path: Path) -> bool:
    """Whether ``path`` is a live run's record, not a request to run live."""
    return path.name.endswith(LIVE_SUFFIX) or path.name == OLD_LIVE_RECORD


def live_record_path(source: Path) -> Path:
    """Where the live record of the snapshot at ``source`` goes."""
    return source.with_name(source.name.removesuffix(".json") + LIVE_SUFFIX)


def record_live(session: LiveSession, source: Snapshot) -> Snapshot:
    """Run ``source``'s call against the live provider (authorised against the cap) and
    save its normalised snapshot beside it (`live_record_path`), atomically, with the
    differences ``source`` declares; an old-style `OLD_LIVE_RECORD` of ``source`` is
    replaced. A live record is not run live again: that would pay twice for the same
    request, and overwrite itself. `Inconclusive` (nothing saved) when the provider kept
    answering as busy or briefly down."""
    if is_live_record(source.path):
        raise ValueError(f"{source.path} is a live run's record, not a request to run live")
    exchange = canonical(session.run(source.endpoint, source.arguments), session.upstreams)
    snapshot = snapshot_of(
        exchange,
        live_record_path(source.path),
        origin="live",
        source=_LIVE_SOURCE.format(source.path.name),
        differences=source.document.get("differences", []),
    )
    snapshot.save()
    old = source.path.with_name(OLD_LIVE_RECORD)
    if old.exists() and _source_of(old) == _LIVE_SOURCE.format(source.path.name):
        old.unlink()  # superseded: the same request, run again
    return snapshot


#: a live record's ``source``: the snapshot whose request it ran
_LIVE_SOURCE = "a live run of {}"


def _source_of(path: Path) -> str | None:
    try:
        return Snapshot.load(path).document.get("source")
    except SnapshotError:
        return None


def find_snapshots(root: Path, *, live_records: bool = True) -> list[Path]:
    """Every snapshot below ``root`` (``<provider>/<endpoint>/snapshots/*.json``); without
    the live runs' records (`is_live_record`) if not ``live_records``."""
    found = sorted(root.glob("*/**/snapshots/*.json"))
    return found if live_records else [path for path in found if not is_live_record(path)]
