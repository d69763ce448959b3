"""The emulator's settings, shared by the server, the CLI, `emulate()` and the pytest fixture.

Each field is documented once, here: the ``serve`` flags (``--field-name``), the environment
variables (``PROVIDER_EMULATOR_FIELD_NAME``), the TOML keys (``[emulator] field_name``) and
the configuration reference in the docs are all derived from these fields.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import quote, urlsplit

from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR
from emulator.core.lifecycle import Progression
from emulator.setting_values import (
    A_WAIT,
    AT_LEAST_ONE,
    NOT_NEGATIVE,
    POSITIVE,
    Bounds,
    described,
    kinds,
)

ENV_PREFIX = "PROVIDER_EMULATOR_"


def not_empty(label: str, value: str) -> None:
    """`ValueError` naming ``label`` if ``value`` is empty."""
    if not value:
        raise ValueError(f"{label} must not be empty: leave it unset instead")


def _sendable(label: str, value: str) -> None:
    """`ValueError` naming ``label`` unless a request can present ``value`` as its
    credential: the emulator reads a header's credential without the white space at its
    ends, and clients send headers in ASCII (httpx refuses any other character), so a
    token such as " tok" or "tök" matched no request and locked out whoever needed it."""
    if value != value.strip() or not all(" " <= char <= "~" for char in value):
        raise ValueError(
            f"{label} must be printable ASCII without white space at its ends: no request "
            "could present it"
        )


def _credential(label: str, value: str) -> None:
    """`ValueError` naming ``label`` if ``value`` is empty or no request could present it."""
    not_empty(label, value)
    _sendable(label, value)


def _keys_given(label: str, keys: frozenset[str]) -> None:
    if not keys:  # every request would be refused (401)
        raise ValueError(f"{label} must name a key: leave it unset to accept any key")
    if "" in keys:  # no request's key would match it
        raise ValueError(f"{label} must not be an empty key: leave it unset to accept any key")
    for key in sorted(keys):
        _sendable(label, key)
    listed = next((key for key in sorted(keys) if "," in key), None)
    if listed is not None:  # `--api-key a,b`: no request's key would match "a,b" either
        raise ValueError(
            f"{label}: {listed!r} holds a comma; give each key its own --api-key "
            "(the environment variable is comma-separated)"
        )


def _origin(label: str, url: str) -> None:
    parts = urlsplit(url)
    try:
        valid = (
            parts.scheme in ("http", "https")
            and bool(parts.hostname)
            and "@" not in parts.netloc
            and parts.port != 0  # reading the port checks it is a number up to 65535
            and url.rstrip("/") == f"{parts.scheme}://{parts.netloc}"
        )
    except ValueError:
        valid = False
    if not valid:
        raise ValueError(f"{label} must be http(s)://host[:port], without a path, not {url!r}")


def _origins(label: str, value: str) -> None:
    if value.strip() != "*":
        for origin in filter(None, (o.strip() for o in value.split(","))):
            _origin(f"each of {label}", origin)


def _setting(default: Any, help: str, **metadata: Any) -> Any:
    if callable(default):
        return field(default_factory=default, metadata={"help": help, **metadata})
    return field(default=default, metadata={"help": help, **metadata})


class UvicornOptions(TypedDict):
    """The keyword options of uvicorn's that follow from the settings."""

    ws_max_size: int


@dataclass(frozen=True)
class EmulatorConfig:
    """The emulator's settings; each field is a ``serve`` flag, an environment variable and a
    TOML key (see the module's docstring)."""

    seed: int | None = _setting(
        None, "Fixes request ids, drawn seeds, timing jitter, media and secrets, for replay."
    )
    progression: Progression = _setting(
        Progression,
        "How jobs move: immediate | polls:QUEUED,RUNNING | wall:QUEUED_S,RUNNING_S[,JITTER] "
        "(default wall:0.25,1.0,0.2, about a second).",
    )
    contracts: tuple[Path, ...] = _setting(
        (DEFAULT_CONTRACTS_DIR,),
        "Contract documents, or directories of them (any layout), added to the shipped ones; "
        "later ones win.",
    )
    api_keys: frozenset[str] | None = _setting(
        None,
        "Keys accepted (comma-separated in the environment); unset accepts any key.",
        check=_keys_given,
    )
    retention: float = _setting(
        3600.0,
        "Seconds a job stays retrievable after submission (fal keeps about an hour), and an "
        "uploaded file after its upload.",
        bounds=Bounds(minimum=0, maximum=31 * 86400, exclusive=True),
    )
    max_jobs: int = _setting(
        100_000,
        "Most jobs kept at once, of every key; past it, the key holding the most loses its "
        "oldest finished job, never a job still queued or running: a submission that only "
        "such a job could make room for is refused (429).",
        bounds=AT_LEAST_ONE,
    )
    max_jobs_per_key: int = _setting(
        20_000,
        "Most jobs kept for one key; its oldest go first, not another key's.",
        bounds=AT_LEAST_ONE,
    )
    max_held_per_key: int = _setting(
        100,
        "Most requests one key may hold open at once in a process (fal status streams, "
        "WaveSpeed sync-mode waits, fal sync runs held for their job's time); one more is "
        "a 429.",
        bounds=AT_LEAST_ONE,
    )
    max_retained_bytes: int = _setting(
        1024 * 2**20,
        "Most bytes of jobs (what their inputs weigh in memory, estimated from their JSON) "
        "kept at once, of every key; past it, the key "
        "holding the most bytes loses its oldest finished job, never a job still queued or "
        "running: a submission that only such a job could make room for is refused (429).",
        bounds=AT_LEAST_ONE,
    )
    max_retained_bytes_per_key: int = _setting(
        256 * 2**20,
        "Most bytes of jobs kept for one key; its oldest go first.",
        bounds=AT_LEAST_ONE,
    )
    max_recorded_requests: int = _setting(
        50_000,
        "Most requests the request record (/_emulator/requests) keeps in all; past it, the "
        "key holding the most loses its oldest, never first a quieter key.",
        bounds=AT_LEAST_ONE,
    )
    max_recorded_requests_per_key: int = _setting(
        10_000,
        "Most requests the record keeps for one key (the credential a request carried); "
        "its oldest go first, not another key's.",
        bounds=AT_LEAST_ONE,
    )
    max_recorded_bytes: int = _setting(
        64 * 2**20,
        "Most bytes of request bodies the record keeps in all (64 KiB of each); past it, "
        "the key holding the most bytes loses its oldest requests.",
        bounds=AT_LEAST_ONE,
    )
    max_body_bytes: int = _setting(
        20 * 2**20, "Largest request body accepted.", bounds=AT_LEAST_ONE
    )
    max_json_depth: int = _setting(64, "Deepest JSON nesting accepted.", bounds=AT_LEAST_ONE)
    max_image_pixels: int = _setting(
        4096 * 4096,
        "Largest image (width x height) rendered; larger sizes are rejected.",
        bounds=AT_LEAST_ONE,
    )
    max_outputs: int = _setting(
        16,
        "Most media one request may ask for (num_images, num_samples…), where its contract "
        "sets no bound.",
        bounds=AT_LEAST_ONE,
    )
    max_video_seconds: float = _setting(
        60.0, "Longest video rendered, in seconds.", bounds=POSITIVE
    )
    max_video_fps: int = _setting(60, "Highest video frame rate rendered.", bounds=AT_LEAST_ONE)
    max_video_pixels: int = _setting(
        1920 * 1080 * 24 * 60,
        "Most pixels (width x height x frames) of one video: 1080p, 60 s at 24 fps.",
        bounds=AT_LEAST_ONE,
    )
    media_cache_bytes: int = _setting(
        256 * 2**20, "Bytes of rendered media kept in memory; 0 keeps none.", bounds=NOT_NEGATIVE
    )
    validate_on_submit: bool = _setting(
        False,
        "Reject invalid input at submit; the real fal queue accepts any JSON and reports "
        "validation errors at the result.",
    )
    public_url: str | None = _setting(
        None,
        "scheme://host[:port] that response URLs use (e.g. behind a proxy): http or https, "
        "no path.",
        check=_origin,
    )
    stream_keepalive: float = _setting(
        15.0,
        "Seconds between keep-alive comments on an idle SSE status stream.",
        bounds=A_WAIT,
    )
    storage_dir: Path | None = _setting(None, "Where uploads are kept; unset keeps them in memory.")
    state: str = _setting(
        "memory",
        "Where jobs, uploads, rules and the request record live: memory (this process, the "
        "fastest), redis://HOST:PORT/DB (shared by every worker and host pointing at it) or "
        "sqlite:///PATH (shared on one host, kept across restarts).",
    )
    data_dir: Path | None = _setting(
        None,
        "Keep state across restarts in this folder: short for --state sqlite:///DIR/state.db "
        "with uploads under DIR/uploads.",
    )
    max_inline_upload_bytes: int = _setting(
        1 * 2**20,
        "With shared state, uploads up to this size are kept in the store; larger ones under "
        "storage_dir, which every worker must see; 0 puts every upload there.",
        bounds=NOT_NEGATIVE,
    )
    max_upload_bytes: int = _setting(200 * 2**20, "Largest uploaded file.", bounds=AT_LEAST_ONE)
    max_storage_bytes: int = _setting(
        1024 * 2**20, "Most bytes of uploads kept in total.", bounds=AT_LEAST_ONE
    )
    max_storage_bytes_per_key: int = _setting(
        256 * 2**20,
        "Most bytes of uploads kept for one key, so that no key fills the store; an upload "
        "past it drops the key's oldest finished files first (one larger than the whole "
        "budget is refused, 507).",
        bounds=AT_LEAST_ONE,
    )
    unreachable_media: str = _setting(
        "fail",
        "An input URL the emulator cannot read (it reads only what it serves, and data URIs) "
        "fails the job as the provider would (fail), or starts from a drawn picture "
        "(synthetic), for offline work with real-world URLs.",
        choices=("fail", "synthetic"),
    )
    webhook_time_scale: float = _setting(
        1.0,
        "Multiplies the providers' webhook retry waits (fal's span two hours): 0.001 makes "
        "them milliseconds, for tests; 0 retries at once.",
        bounds=Bounds(minimum=0, maximum=100),
    )
    webhook_targets: str = _setting(
        "loopback",
        "Where webhooks may go: loopback addresses only, or any address.",
        choices=("loopback", "any"),
    )
    admin_token: str | None = _setting(
        None,
        "The token the control plane (/_emulator) asks for, as 'Authorization: Bearer "
        "<token>'; unset leaves it open. serve makes one (and prints it) when it listens "
        "beyond loopback or accepts only some keys. An empty one, or one no request could "
        "present (white space at its ends, a character not ASCII), is refused.",
        check=_credential,
    )
    proxy_key: str | None = _setting(
        None,
        "The key fal's proxy (/fal/proxy) adds to a request that carries none, as a real "
        "proxy adds its server-side FAL_KEY; unset forwards such requests as they are (401).",
        check=_credential,
    )
    sync_timeout: float = _setting(
        90.0,
        "Seconds a WaveSpeed sync-mode request waits before its 5004 answer, and a fal sync "
        "run or stream whose job never leaves its queue (a starve fault) before its 504.",
        bounds=A_WAIT,
    )
    realtime_idle_timeout: float = _setting(
        60.0,
        "Seconds a fal realtime session waits for an input (TIMEOUT), or for its client to "
        "read a result, before it ends.",
        bounds=A_WAIT,
    )
    curated_only: bool = _setting(
        False,
        "Serve only the curated contract documents, not fal's whole catalogue (imported from "
        "its published endpoint types); a curated document always wins for the same id.",
    )
    unknown_endpoints: str = _setting(
        "404",
        "A model id no contract knows answers the provider's 404 (404), or a permissive "
        "contract chosen by its name's category (generic): fal's models newer than the "
        "catalogue, WaveSpeed's beyond the curated contracts.",
        choices=("404", "generic"),
    )
    cors_origins: str = _setting(
        "*",
        "The web origins (scheme://host[:port], comma-separated) whose pages may call the "
        "provider surfaces from a browser, as fal's hosts let them: * for any, empty for none. "
        "The control plane is never cross-origin.",
        check=_origins,
    )

    def __post_init__(self) -> None:
        for setting in fields(self):
            given = getattr(self, setting.name)
            # As Python callers write them: a set or list for a frozenset or tuple, text
            # for a path or a progression.
            held = KINDS[setting.name].read(setting.name, given)
            check_setting(setting, held)
            if held is not given:
                object.__setattr__(self, setting.name, held)

    @property
    def websocket_frame_limit(self) -> int:
        """The largest WebSocket frame a server reads (uvicorn's ``ws_max_size``): twice the
        body limit, so that a realtime frame over ``max_body_bytes`` reaches the app, which
        tells the client why it refuses it before it closes (1009)."""
        return 2 * self.max_body_bytes

    @property
    def uvicorn_options(self) -> UvicornOptions:
        """The options uvicorn takes from the settings, the same for every server the
        emulator runs: ``serve``, `BackgroundServer` and the in-process WebSockets of
        ``emulate()``."""
        return UvicornOptions(ws_max_size=self.websocket_frame_limit)

    @property
    def state_url(self) -> str:
        """Where state lives, ``data_dir`` spelled out: ``memory`` or a store's URL."""
        if self.data_dir is not None and self.state == "memory":
            # quoted: the store decodes the URL's path (a folder's %20 or ? is its own)
            return f"sqlite://{quote(str(self.data_dir.resolve() / 'state.db'))}"
        return self.state

    @property
    def uploads_dir(self) -> Path | None:
        """Where uploads too large for the store go: ``storage_dir``, else under ``data_dir``."""
        if self.storage_dir is None and self.data_dir is not None:
            return self.data_dir / "uploads"
        return self.storage_dir

    def with_contracts(self, *directories: Path | str) -> EmulatorConfig:
        if not directories:  # (a config is built anew, every setting checked: 1 ms)
            return self
        return replace(self, contracts=self.contracts + tuple(Path(d) for d in directories))

    def with_options(
        self,
        options: Mapping[str, Any],
        base: Path | None = None,
        *,
        text: bool = True,
        label: Callable[[str], str] = str,
    ) -> EmulatorConfig:
        """This config with ``options`` applied, None meaning "not given": typed values (a
        path or a progression may be given as text, a tuple or set as any list), or, where
        ``text``, their text as flags and environment variables give it (a TOML file's
        values are typed: text=False). ``contracts`` are added to the current ones;
        relative paths are taken from ``base``. A `ValueError` names the setting as
        ``label(name)`` says (a flag, a variable)."""
        unknown = set(options) - set(SETTINGS)
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        values = {}
        for name, value in options.items():
            if value is not None:
                held = KINDS[name].read(label(name), value, base or Path(), text)
                values[name] = check_setting(SETTINGS[name], held, label(name))
        extra = values.pop("contracts", ())
        changed = replace(self, **values) if values else self
        return changed.with_contracts(*extra)

    def with_environment(self, environ: Mapping[str, str] = os.environ) -> EmulatorConfig:
        """This config with the ``PROVIDER_EMULATOR_*`` variables that are set applied."""
        given = {name: environ.get(env_name(name)) for name in SETTINGS}
        chosen = {k: v for k, v in given.items() if v not in (None, "")}
        return self.with_options(chosen, label=env_name)


SETTINGS: dict[str, Field[Any]] = {f.name: f for f in fields(EmulatorConfig)}


def env_name(setting: str) -> str:
    return ENV_PREFIX + setting.upper()


def setting_help(setting: Field[Any]) -> str:
    """The description of one of `EmulatorConfig`'s fields, with its bounds."""
    return described(setting.metadata["help"], setting.metadata.get("bounds"))


#: the kind of each setting, read once from `EmulatorConfig`'s annotations
KINDS = kinds(EmulatorConfig)


def check_setting(setting: Field[Any], value: Any, label: str | None = None) -> Any:
    """``value`` if it is one ``setting`` accepts (of its kind, one of its choices, within
    its bounds, through its check), else `ValueError` naming ``label`` (the setting's
    name, or the flag or variable that gave it)."""
    label = label or setting.name
    kind = KINDS[setting.name]
    if not kind.holds(value):
        raise ValueError(f"{label} must be {kind}, not {value!r}")
    if value is None:
        return value
    choices = setting.metadata.get("choices")
    if choices and value not in choices:
        raise ValueError(f"{label} must be one of {', '.join(choices)}, not {value!r}")
    if "bounds" in setting.metadata:
        setting.metadata["bounds"].check(label, value)
    if "check" in setting.metadata:
        setting.metadata["check"](label, value)
    return value
