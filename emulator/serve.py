"""``provider-emulator serve``: the server, from the settings its flags give
(``serve_flags.py``): the app built, its socket bound, one process or several workers.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import secrets
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.config import EmulatorConfig, UvicornOptions
from emulator.config_file import Settings
from emulator.core.clock import ManualClock
from emulator.core.engine import Engine
from emulator.core.faults import Fault
from emulator.core.store import StoreUnavailable, open_store
from emulator.core.webhook_targets import is_loopback_host
from emulator.logs import filter_uvicorn_logs
from emulator.recording import from_arguments as with_arguments
from emulator.serve_flags import add_parser, settings

if TYPE_CHECKING:
    from emulator.tls import TLSFiles


class CannotStart(Exception):
    """What stops the server that is no usage error (exit status 1): a port taken, a host
    that does not resolve, a store down, TLS files that cannot be written."""


#: the ports a server may listen on (0: one the system chooses)
def build_app(chosen: Settings, port: int | None = None, *, serves: bool = True) -> Any:
    """The app the settings describe, fault rules staged; ``port`` is where it will listen
    (never a webhook target). An app that never ``serves`` (the parent of several workers)
    takes no share of a shared store's webhook deliveries."""
    from emulator.app import create_app

    clock = ManualClock(wall_start=time.time()) if chosen.manual_clock else None
    engine = Engine(chosen.config, clock=clock, delivers=serves)
    # A shared store may keep the rules of an earlier start (a restart on a --data-dir or a
    # persistent Redis, another host): a rule staged already is not staged twice.
    staged = (
        {_as_staged(r) for r in engine.faults.rules} if engine.store and chosen.faults else set()
    )
    for rule in chosen.faults:
        if _as_staged(rule) not in staged:
            engine.faults.add(rule)
    if port is not None:
        engine.webhooks.own_ports.add(port)
    return create_app(engine=engine)


def _as_staged(rule: Fault) -> str:
    return json.dumps(rule.definition(), sort_keys=True)


def guarded(chosen: Settings, host: str) -> tuple[Settings, list[str]]:
    """The settings with an admin token for the control plane where one is needed: when
    the server listens beyond loopback, or accepts only some keys; and the lines to print
    once it listens: the warning, and a token made here (printed once)."""
    config, notices = chosen.config, []
    exposed = not is_loopback_host(host)
    if exposed:
        notices.append(
            f"warning: listening on {host} exposes the emulator beyond this machine; its "
            "control plane (/_emulator) needs the admin token"
        )
    if config.admin_token is None and (exposed or config.api_keys is not None):
        config = replace(config, admin_token=secrets.token_urlsafe(24))
        notices.append(f"control-plane admin token: {config.admin_token}")
    return replace(chosen, config=config), notices


def kept_by_store(config: EmulatorConfig, engine: Engine) -> list[str]:
    """A line for each setting of ``config`` that the shared store ``engine`` joined keeps
    a value of its own for, which wins (docs/deployment.md): the seed, a progression set
    through the control plane; each says how to change it, and whether this start asked
    for another value or left the setting at its default."""
    if engine.store is None:
        return []
    defaults, kept = EmulatorConfig(), []
    if engine.seed != config.seed:
        asked = _asked("the seed", _seed(config.seed), config.seed == defaults.seed)
        kept.append(
            f"the state store keeps {_seed(engine.seed)}{asked}: to change it, reset with it "
            '(POST /_emulator/reset {"seed": N})'
        )
    if engine.progression != config.progression:
        by_default = config.progression == defaults.progression
        asked = _asked("the progression", str(config.progression), by_default)
        kept.append(
            f"the state store keeps progression {engine.progression}{asked}: to change it, "
            "POST /_emulator/progression"
        )
    return kept


def _asked(setting: str, value: str, by_default: bool) -> str:
    """How a notice words what this start asked of ``setting``, which the store's value
    overrides: ``value`` as asked for, or (``by_default``) as the default this start left
    it at, which asked for nothing."""
    if by_default:
        return f" (this start leaves {setting} at its default, {value})"
    return f", not {value} as this start says"


def _seed(seed: int | None) -> str:
    return "no seed" if seed is None else f"seed {seed}"


def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Serve as ``args`` (parsed from ``argv``, which the workers parse again) say: every
    setting is checked, and the app built, before the port is bound; the port is bound
    before start-up names it."""
    chosen, server = settings(args)
    check_workers(server["workers"], chosen.config, args)
    tls: dict[str, Any] = {}
    if server["tls"]:
        files = tls_files(server["tls_dir"])
        tls = {"ssl_certfile": str(files.certificate), "ssl_keyfile": str(files.key)}
    chosen, notices = guarded(chosen, server["host"])
    check_folders(chosen.config)
    try:
        reach_store(chosen.config.state_url)
        # With several workers this app is never served: building it checks every setting
        # before a worker starts, and stages the fault rules, once, in the shared store.
        built = build_app(chosen, serves=server["workers"] == 1)
        notices += kept_by_store(chosen.config, built.state.engine)
        app, recording = with_arguments(built, args)
        if recording is not None:
            notices.append(recording)
    except StoreUnavailable as exc:
        raise CannotStart(f"the state store cannot be reached: {exc}") from None
    with listener(server["host"], server["port"]) as bound:
        for notice in notices:
            print(f"provider-emulator: {notice}", file=sys.stderr)
        port = bound.getsockname()[1]
        engine = built.state.engine
        engine.webhooks.own_ports.add(port)  # never a webhook target
        target: Any = app
        serves_here = server["workers"] == 1
        if not serves_here:
            # The workers inherit the environment (readable by this user only), and with
            # it the settings, the token made here and the port bound here.
            worker = {
                "argv": list(argv),
                "admin_token": chosen.config.admin_token,
                "port": port,
                "parent": os.getpid(),
            }
            os.environ[WORKER_SETTINGS] = json.dumps(worker)
            target = "emulator.serve:worker_app"
            engine.close()  # it serves nothing
        del app, built  # the parent of several workers keeps none of it
        try:
            _serve(target, server, bound, tls, chosen.config.uvicorn_options)
        finally:
            if serves_here:  # what the record writes behind reaches the store before exit
                engine.close()
    return 0


def tls_files(directory: Path | None) -> TLSFiles:
    """The TLS files in ``directory`` (see `emulator.tls.ensure_tls`), made if need be, or
    `CannotStart` saying why they cannot be."""
    from emulator.tls import DEFAULT_TLS_DIR, ensure_tls

    try:
        return ensure_tls(directory)
    except OSError as exc:
        raise CannotStart(
            f"the TLS files cannot be made in {directory or DEFAULT_TLS_DIR}: {exc}"
        ) from None


def check_folders(config: EmulatorConfig) -> None:
    """`CannotStart` unless each folder the settings keep files in is one this process
    can write: the data dir and where uploads go (the storage dir, or under the data dir).
    A folder a container's volume made root's would otherwise fail each upload too large
    for the store, and only those."""
    for role, folder in (("data", config.data_dir), ("uploads", config.uploads_dir)):
        if folder is None:
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CannotStart(f"the {role} folder {folder} cannot be made: {exc}") from None
        try:
            # named as an upload's temporary file (`.incoming-…`), gone when closed
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".incoming-") as probe:
                probe.write(b"probe")
                probe.flush()
        except OSError as exc:
            raise CannotStart(f"the {role} folder {folder} cannot be written: {exc}") from None


def listener(host: str, port: int) -> socket.socket:
    """A socket bound here to ``host``:``port``, which uvicorn serves (and hands to each
    worker): a port taken or a host that does not resolve stops serve before start-up
    names where it serves, and port 0 is named as the one the system chose."""
    bound = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        # As uvicorn binds: a restart need not wait for the last connections to time out.
        bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # uvicorn takes a socket handed over by descriptor for a Unix one, and so leaves
        # Nagle's algorithm on for the connections it accepts: every small answer on a
        # kept-alive connection then waited ~40 ms for an ACK (734 polls a second where
        # 28,000 are served). Accepted sockets inherit the listener's TCP_NODELAY.
        bound.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        bound.bind((host, port))
    except OSError as exc:
        bound.close()
        reason = exc.strerror or exc  # a host that does not resolve: "Name or service not known"
        raise CannotStart(f"cannot listen on {host} port {port}: {reason}") from None
    return bound


def _serve(
    target: Any,
    server: dict[str, Any],
    bound: socket.socket,
    tls: dict[str, Any],
    options: UvicornOptions,
) -> None:
    import uvicorn

    from emulator.http_protocol import BoundedHeadProtocol

    port = bound.getsockname()[1]
    filter_uvicorn_logs()
    _freeze_startup_objects()
    host = server["host"]
    # an IPv6 address is bracketed in a URL: "http://::1:8000/" was none to open
    shown = f"[{host}]" if ":" in host else host
    origin = f"{'https' if tls else 'http'}://{shown}:{port}"
    print(f"provider-emulator: serving on {origin}/", flush=True)
    print(f"provider-emulator: dashboard at {origin}/_emulator/ui", flush=True)
    uvicorn.run(
        target,
        factory=isinstance(target, str),
        workers=server["workers"],
        host=server["host"],
        port=port,
        fd=bound.fileno(),  # the socket bound here serves as it is
        log_level=server["log_level"],
        access_log=server["access_log"],
        timeout_graceful_shutdown=server["shutdown_timeout"],
        # A client that sends part of a request and stalls holds nothing for long.
        timeout_keep_alive=5,
        http=BoundedHeadProtocol,  # a request's head bounded (http_protocol.py)
        **options,  # what the settings decide (EmulatorConfig.uvicorn_options)
        **tls,
    )


def check_workers(workers: int, config: EmulatorConfig, args: argparse.Namespace) -> None:
    """`ValueError` unless ``workers`` processes can serve ``config`` together."""
    if workers == 1:
        return
    if config.state_url == "memory":
        raise ValueError(
            f"--workers {workers} needs state the workers share: add --state redis://HOST:PORT/DB "
            "(or --state sqlite:///PATH, or --data-dir DIR)"
        )
    if args.record or args.replay:
        # A recording folder is written by one process, and a replayed job's recorded
        # result is known only to the process that accepted its submission.
        flag = "--record" if args.record else "--replay"
        raise ValueError(f"{flag} works in one process: use --workers 1")


def reach_store(url: str) -> None:
    """`StoreUnavailable` unless the shared store at ``url`` answers (a memory one does)."""
    if url == "memory":
        return
    store = open_store(url)
    try:
        store.ping()
    finally:
        store.close()


#: the environment variable that carries the parent's settings to each worker (JSON)
WORKER_SETTINGS = "PROVIDER_EMULATOR_WORKER_SETTINGS"


def worker_app() -> Any:
    """One worker's app (uvicorn's factory for ``serve --workers N``): the parent's
    settings, parsed again from its command line in the parent's environment, with the
    parent's admin token and port, and without the fault rules, which the parent staged."""
    worker = json.loads(os.environ[WORKER_SETTINGS])
    parser = argparse.ArgumentParser(prog="provider-emulator")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(worker["argv"])
    chosen, _ = settings(args)
    config = replace(chosen.config, admin_token=worker["admin_token"])
    built = build_app(replace(chosen, config=config, faults=()), worker["port"])
    app, _ = with_arguments(built, args)
    filter_uvicorn_logs()
    _freeze_startup_objects()
    _end_with_parent(worker["parent"])
    return app


#: seconds between a worker's looks at whether its parent is still there
PARENT_WATCH = 0.5


def _end_with_parent(parent: int) -> None:
    """End this worker, as a SIGTERM would, once the ``serve`` process that started it is
    gone: killed with SIGKILL (an out-of-memory kill, a CI runner's), it could not stop
    its workers, which would go on serving and hold the port a restart needs. (An app
    built by the parent itself, as the tests build one, has no parent of its own to watch.)"""
    if parent == os.getpid():
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_WATCH)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="provider-emulator-parent", daemon=True).start()


#: the collector's thresholds while serving (Python's defaults: 700, 10, 10)
GC_THRESHOLDS = (50_000, 50, 1000)


def _freeze_startup_objects() -> None:
    # What start-up made (modules, contracts, schemas) lives as long as the server: moved
    # out of the collector's generations, later collections never walk it again. No full
    # collection first: it found ~600 garbage objects here and cost 5-8 ms of start-up, more
    # than keeping them does.
    gc.freeze()
    # Retained jobs are long-lived containers a collection walks: collecting less often
    # keeps the pauses that walk them (the submit tail, issue 17) rare. Jobs form no
    # cycles; they are freed by reference counting whatever the thresholds.
    gc.set_threshold(GC_THRESHOLDS[0], GC_THRESHOLDS[1], GC_THRESHOLDS[2])
    gc.enable()  # paused while the command line loaded (__main__.py)
