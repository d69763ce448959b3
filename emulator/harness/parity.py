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
from emulator.harness.snapshots import Snapshot, compare, snapshot_of
from emulator.http.upstream import Upstreams
from emulator.providers.registry import CANONICAL_HOSTS

__all__ = ["LIVE_RECORD", "canonical", "find_snapshots", "record_live", "replay"]

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


#: the name a live run's record of a snapshot's request takes, beside that snapshot
LIVE_RECORD = "live.json"


def record_live(session: LiveSession, source: Snapshot) -> Snapshot:
    """Run ``source``'s call against the live provider (authorised against the cap) and
    save its normalised snapshot beside it as `LIVE_RECORD`, atomically, with the
    differences ``source`` declares. A live record is not run live again: that would pay
    twice for the same request, and overwrite itself."""
    if source.path.name == LIVE_RECORD:
        raise ValueError(f"{source.path} is a live run's record, not a request to run live")
    exchange = canonical(session.run(source.endpoint, source.arguments), session.upstreams)
    snapshot = snapshot_of(
        exchange,
        source.path.with_name(LIVE_RECORD),
        origin="live",
        source=f"a live run of {source.path.name}",
        differences=source.document.get("differences", []),
    )
    snapshot.save()
    return snapshot


def find_snapshots(root: Path, *, live_records: bool = True) -> list[Path]:
    """Every snapshot below ``root`` (``<provider>/<endpoint>/snapshots/*.json``); without
    the live runs' records (`LIVE_RECORD`) if not ``live_records``."""
    found = sorted(root.glob("*/**/snapshots/*.json"))
    return found if live_records else [path for path in found if path.name != LIVE_RECORD]
