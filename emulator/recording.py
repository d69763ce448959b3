"""``serve --record DIR`` / ``serve --replay DIR``, and the same in-process.

    provider-emulator serve --record ./recordings            # proxies to the real APIs
    provider-emulator serve --replay ./recordings [--replay-fallback 404]

    app = with_recordings(create_app(), replay="./recordings")   # in-process

The provider grammars below tell the neutral middleware (``http/replay.py``) where each
provider submits, answers results and keeps media.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp

from emulator.http.recordings import RecordingError, RecordingStore
from emulator.http.replay import DEFAULT_MEDIA_CAP, Grammar, RecordingProxy, Replayer
from emulator.http.upstream import UpstreamError, Upstreams
from emulator.providers.registry import CANONICAL_HOSTS, HOST_SURFACES

__all__ = ["GRAMMARS", "RecordingError", "add_serve_options", "from_arguments", "with_recordings"]


def _fal_job(body: Any) -> str | None:
    return body.get("request_id") if isinstance(body, Mapping) else None


def _wavespeed_data(body: Any) -> Mapping[str, Any]:
    data = body.get("data") if isinstance(body, Mapping) else None
    return data if isinstance(data, Mapping) else {}


def _wavespeed_merge(emulated: Any, recorded: Any) -> Any:
    # The emulator's id and URLs (the client polls them), the recorded prediction otherwise.
    ours = _wavespeed_data(emulated)
    data = {**_wavespeed_data(recorded), **{k: ours[k] for k in ("id", "urls") if k in ours}}
    return {**recorded, "data": data}


GRAMMARS = {
    "fal": Grammar(
        "fal",
        submit=re.compile(r"fal/queue/(?P<endpoint>(?:(?!/requests/).)+?)/?"),
        result=re.compile(r"fal/queue/.+?/requests/(?P<id>[^/]+)/?"),
        job_id=_fal_job,
        final=lambda body: True,  # fal answers a result only once the job is done
        merge=lambda emulated, recorded: recorded,
        static=("fal/cdn",),
        sync=re.compile(r"fal/run/(?P<endpoint>.+?)/?"),
    ),
    "wavespeed": Grammar(
        "wavespeed",
        submit=re.compile(r"wavespeed/api/v3/(?P<endpoint>(?!predictions/|media/).+?)/?"),
        result=re.compile(r"wavespeed/api/v3/predictions/(?P<id>[^/]+)/result/?"),
        job_id=lambda body: _wavespeed_data(body).get("id"),
        final=lambda body: _wavespeed_data(body).get("status") in ("completed", "failed"),
        merge=_wavespeed_merge,
        static=("wavespeed/cdn",),
    ),
}


def with_recordings(
    app: ASGIApp,
    *,
    record: Path | str | None = None,
    replay: Path | str | None = None,
    fallback: str = "emulate",
    upstream: Sequence[str] = (),
    media_cap: int = DEFAULT_MEDIA_CAP,
) -> ASGIApp:
    """``app`` recording into ``record`` or replaying from ``replay`` (not both)."""
    if record and replay:
        raise RecordingError("--record and --replay cannot be used together")
    upstreams = Upstreams.parse(CANONICAL_HOSTS, upstream)
    if record:
        store = RecordingStore(Path(record))
        store.prepare()
        return RecordingProxy(
            app, store=store, upstreams=upstreams, host_surfaces=HOST_SURFACES,
            media_cap=media_cap,
        )  # fmt: skip
    if replay:
        recordings = RecordingStore(Path(replay)).read()
        return Replayer(
            app, recordings=recordings, grammars=GRAMMARS, upstreams=upstreams,
            host_surfaces=HOST_SURFACES, fallback=fallback,
        )  # fmt: skip
    return app


def add_serve_options(serve: argparse.ArgumentParser) -> None:
    option = serve.add_argument
    option("--record", type=Path, metavar="DIR", help="proxy provider calls, recording them")
    option("--replay", type=Path, metavar="DIR", help="answer from the recordings in DIR")
    option(
        "--replay-fallback",
        choices=("emulate", "404"),
        default="emulate",
        help="what answers a request no recording matches (default: emulate)",
    )
    option(
        "--upstream",
        action="append",
        default=[],
        metavar="[PROVIDER=]URL",
        help="where the real provider is, for --record (default: its real hosts)",
    )
    option(
        "--record-media-cap",
        type=int,
        default=DEFAULT_MEDIA_CAP,
        metavar="BYTES",
        help="largest media body kept in a recording",
    )


def from_arguments(app: ASGIApp, args: argparse.Namespace) -> ASGIApp:
    """``app`` wrapped as ``serve``'s recording options ask; `RecordingError` or
    `UpstreamError` when they cannot be honoured."""
    return with_recordings(
        app,
        record=args.record,
        replay=args.replay,
        fallback=args.replay_fallback,
        upstream=args.upstream,
        media_cap=args.record_media_cap,
    )


ERRORS = (RecordingError, UpstreamError)
