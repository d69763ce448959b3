"""``serve --record DIR`` / ``serve --replay DIR``, and the same in-process.

    provider-emulator serve --record ./recordings            # proxies to the real APIs
    provider-emulator serve --replay ./recordings [--replay-fallback 404]

    app = with_recordings(create_app(), replay="./recordings")   # in-process

Each provider's grammar (its ``replay.py``) tells the neutral middleware (``http/replay.py``)
where it submits, answers results and keeps media.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, get_args

from starlette.types import ASGIApp

from emulator.http.recordings import DEFAULT_MEDIA_CAP, RecordingError, RecordingStore
from emulator.http.upstream import UpstreamError, Upstreams
from emulator.providers.registry import CANONICAL_HOSTS, HOST_SURFACES, PROVIDERS
from emulator.setting_values import NOT_NEGATIVE

#: each provider's wire grammar, by name
GRAMMARS = {provider.name: provider.replay for provider in PROVIDERS}
#: each provider's error answers, by name (a replay's 404 is in its provider's format)
ERROR_ANSWERS = {provider.name: provider.http_error for provider in PROVIDERS}
#: each provider's answer when its upstream cannot be reached, by name (record mode's 502)
UPSTREAM_ERRORS = {provider.name: provider.upstream_error for provider in PROVIDERS}


#: what answers a replayed request no recording matches: the emulator, or a 404
ReplayFallback = Literal["emulate", "404"]


def with_recordings(
    app: ASGIApp,
    *,
    record: Path | str | None = None,
    replay: Path | str | None = None,
    fallback: ReplayFallback = "emulate",
    upstream: Sequence[str] = (),
    media_cap: int = DEFAULT_MEDIA_CAP,
) -> ASGIApp:
    """``app`` recording into ``record`` or replaying from ``replay`` (not both)."""
    _check_options(record, replay, fallback, upstream, media_cap)
    upstreams = Upstreams.parse(CANONICAL_HOSTS, upstream)
    if record or replay:  # httpx and the proxy load only for those who record or replay
        from emulator.http.replay import RecordingProxy, Replayer
    if record:
        store = RecordingStore(Path(record))
        store.prepare()
        return RecordingProxy(
            app, store=store, upstreams=upstreams, host_surfaces=HOST_SURFACES,
            unreachable=UPSTREAM_ERRORS, media_cap=media_cap,
        )  # fmt: skip
    if replay:
        recordings = RecordingStore(Path(replay)).read(CANONICAL_HOSTS)
        state = getattr(app, "state", None)  # `create_app`'s
        replayer = Replayer(
            app, recordings=recordings, grammars=GRAMMARS, upstreams=upstreams,
            host_surfaces=HOST_SURFACES, fallback=fallback, errors=ERROR_ANSWERS,
            recorder=getattr(state, "recorder", None),
        )  # fmt: skip
        engine = getattr(state, "engine", None)
        if engine is not None:  # a reset of the emulator replays from the start again
            engine.after_reset.append(replayer.rewind)
        return replayer
    return app


#: how a caller named each recording option, for the errors that name it
_Names = dict[str, str]
#: `with_recordings`' arguments (`Emulation`'s, but for ``replay_fallback``, which the
#: fallback's errors call "the replay fallback", as either caller reads it)
_ARGUMENTS: _Names = {
    "record": "record=",
    "replay": "replay=",
    "fallback": "the replay fallback",
    "upstream": "upstream=",
    "media_cap": "media_cap",
}
#: ``serve``'s flags
_FLAGS: _Names = {
    "record": "--record",
    "replay": "--replay",
    "fallback": "--replay-fallback",
    "upstream": "--upstream",
    "media_cap": "--record-media-cap",
}


def _check_options(
    record: Path | str | None,
    replay: Path | str | None,
    fallback: ReplayFallback,
    upstream: Sequence[str],
    media_cap: int,
    names: _Names = _ARGUMENTS,
) -> None:
    """`RecordingError` (or `ValueError`) for options that cannot work together: an option
    of one mode without that mode did nothing, unseen. Each is named as its caller named
    it (``names``): an in-process caller was told of flags it has not."""
    if record and replay:
        raise RecordingError(
            f"{names['record']} and {names['replay']} cannot be used together: record into "
            "one directory, or replay from one"
        )
    if fallback not in get_args(ReplayFallback):
        # quoted, so that an int 404 is not refused as "must be emulate or 404, not 404"
        raise RecordingError(
            f"the replay fallback must be 'emulate' or '404' (a string), not {fallback!r}"
        )
    if fallback != "emulate" and not replay:
        raise RecordingError(
            f"{names['fallback']} {fallback} needs {names['replay']} (nothing is replayed)"
        )
    if upstream and not record:
        raise RecordingError(
            f"{names['upstream']} needs {names['record']} (it is where a recording's calls go)"
        )
    NOT_NEGATIVE.check(names["media_cap"], media_cap)


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
        help="where the real provider is, for --record (default: its real hosts); "
        "repeatable (comma-separated in the environment)",
    )
    option(
        "--record-media-cap",
        type=int,
        default=DEFAULT_MEDIA_CAP,
        metavar="BYTES",
        help="largest media body kept in a recording (0: none, only its size)",
    )


def from_arguments(app: ASGIApp, args: argparse.Namespace) -> tuple[ASGIApp, str | None]:
    """``app`` wrapped as ``serve``'s recording options ask, and what ``serve`` says of
    them at start (None: nothing); `RecordingError` or `UpstreamError` when they cannot
    be honoured."""
    options = args.record, args.replay, args.replay_fallback, args.upstream
    _check_options(*options, args.record_media_cap, _FLAGS)  # named as flags, not arguments
    wrapped = with_recordings(
        app,
        record=args.record,
        replay=args.replay,
        fallback=args.replay_fallback,
        upstream=args.upstream,
        media_cap=args.record_media_cap,
    )
    if args.record:
        # the flag's words, else the variable's: where the calls really go (and cost)
        upstream = Upstreams.parse(CANONICAL_HOSTS, args.upstream).described()
        return wrapped, f"recording provider calls into {args.record} (upstream: {upstream})"
    if args.replay:
        from emulator.http.replay import Replayer  # loaded already: it is replaying

        loaded = wrapped.loaded if isinstance(wrapped, Replayer) else 0
        unmatched = "a 404" if args.replay_fallback == "404" else "emulated"
        counted = f"{loaded} recording{'' if loaded == 1 else 's'} in {args.replay}"
        unfetched = wrapped.cassette.unfetched if isinstance(wrapped, Replayer) else 0
        if unfetched:  # a webhook-driven client's: said, as a replay is to give what was recorded
            plural = "" if unfetched == 1 else "s"
            unmatched += f"; {unfetched} submit{plural} recorded without its result: emulated"
        return wrapped, f"answering from {counted} (what none matches: {unmatched})"
    return wrapped, None


ERRORS = (RecordingError, UpstreamError)
