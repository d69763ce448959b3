"""In-process emulation for tests and scripts, like moto's ``mock_aws``.

    with emulate(seed=1) as emulation:
        fal_client.subscribe("fal-ai/bitdance", arguments={"prompt": "a cat"})
        assert len(emulation.requests.filter(path="/status")) == 1

The real clients keep calling their real ``https://`` hosts; the emulator answers them in
this process, and anything else fails loudly unless ``unmatched="pass"``. Also usable as a
decorator, on sync and async functions.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from starlette.applications import Starlette

from emulator.app import create_app
from emulator.clients import FAKE_CREDENTIALS
from emulator.config import EmulatorConfig
from emulator.core.clock import Clock, ManualClock
from emulator.core.engine import Engine
from emulator.core.faults import Fault
from emulator.core.jobs import JobStore
from emulator.core.lifecycle import Progression
from emulator.core.record import Calls, RequestRecord
from emulator.core.shared_jobs import SharedJobStore
from emulator.core.webhooks import Delivery
from emulator.recording import ReplayFallback, with_recordings
from emulator.transport import AppDispatcher, Interception
from emulator.transport.unmatched import Unmatched

F = TypeVar("F", bound=Callable[..., Any])


class Emulation:
    """The emulator answering the providers' hosts in-process, with its controls."""

    def __init__(
        self,
        *,
        seed: int | None = None,
        progression: str | Progression = "immediate",
        api_keys: Iterable[str] | None = None,
        unmatched: Unmatched = "fail",
        contracts: Iterable[Path | str] = (),
        clock: Clock | None = None,
        fake_credentials: bool = True,
        config: EmulatorConfig | None = None,
        record: Path | str | None = None,
        replay: Path | str | None = None,
        replay_fallback: ReplayFallback = "emulate",
    ) -> None:
        """``config`` replaces ``seed``, ``progression``, ``api_keys`` and ``contracts``;
        ``record``/``replay``: a directory of recordings (see ``emulator.recording``);
        ``replay_fallback``: what answers a call no recording matches, the emulator or a
        404 (``serve --replay-fallback``)."""
        if config is None:
            options = {
                "seed": seed,
                "progression": progression,
                "api_keys": api_keys,
                "contracts": contracts,
            }
            config = EmulatorConfig().with_options(options)
        self._making = config, clock, (record, replay, replay_fallback), unmatched
        self._make()
        self._fake_credentials = fake_credentials
        self._saved_environment: dict[str, str | None] = {}
        self._saved_wavespeed_key: tuple[Any, Any] | None = None
        self._saved_wavespeed_client: Any = None

    def _make(self) -> None:
        """A fresh engine, app and interception: at the start, and again for each later
        use of an emulation that has ended (a decorated function called twice)."""
        config, clock, (record, replay, fallback), unmatched = self._making
        self.engine = Engine(config, clock=clock)
        self.app: Starlette = create_app(engine=self.engine)
        recorded = with_recordings(self.app, record=record, replay=replay, fallback=fallback)
        self._dispatcher = AppDispatcher(recorded)
        self._interception = Interception(
            self._dispatcher, unmatched=unmatched, uvicorn_options=config.uvicorn_options
        )
        self._ended = False

    # -- controls ------------------------------------------------------------------------

    @property
    def requests(self) -> RequestRecord:
        """Every provider request received, oldest first."""
        return self.engine.record

    def calls(self, endpoint: str | None = None) -> Calls:
        """The requests that ran ``endpoint`` (submits, sync runs, streams), oldest first:
        ``emulation.calls("fal-ai/bitdance").last.json["prompt"]``, ``.call_count``."""
        return self.engine.record.calls(endpoint)

    @property
    def jobs(self) -> JobStore | SharedJobStore:
        return self.engine.jobs

    @property
    def faults(self) -> list[Fault]:
        """The fault rules in force."""
        return list(self.engine.faults.rules)

    def add_fault(self, effect: str, **rule: Any) -> Fault:
        """Stage a failure: ``add_fault("http_error", status=429, retry_after=2, times=1)``.
        See `emulator.core.faults` for the effects and the filters."""
        return self.engine.faults.add(Fault.from_dict({"effect": effect, **rule}))

    def clear_faults(self) -> None:
        self.engine.faults.clear(self.engine.faults.seed)

    @property
    def webhooks(self) -> list[Delivery]:
        """Every webhook delivery so far, with its attempts."""
        return list(self.engine.webhooks.deliveries)

    def wait_for_webhooks(self, timeout: float = 10.0) -> list[Delivery]:
        """Wait until no delivery is waiting or pending, then the deliveries."""
        if not self.engine.webhooks.wait(timeout):
            raise TimeoutError(f"webhooks still pending after {timeout} s")
        return self.webhooks

    @property
    def progression(self) -> Progression:
        return self.engine.progression

    @progression.setter
    def progression(self, value: str | Progression) -> None:
        """How jobs move from now on (``immediate``, ``polls:Q,R``, ``wall:Q,R``)."""
        self.engine.progression = Progression.parse(value) if isinstance(value, str) else value

    def advance(self, seconds: float) -> None:
        """Move a manual clock (``emulate(clock=ManualClock())``) forward."""
        if not isinstance(self.engine.clock, ManualClock):
            raise TypeError("advance() needs emulate(clock=ManualClock())")
        self.engine.clock.advance(seconds)

    def reset(self, seed: int | None = None) -> None:
        """Forget every job, medium and recorded request; reseed."""
        self.engine.reset(seed if seed is not None else self.engine.config.seed)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> Emulation:
        if self._ended:
            self._make()
        self.reset()
        if self._fake_credentials:
            self._provide_credentials()
        self._saved_wavespeed_client = _swap_wavespeed_client(None)
        try:
            self._interception.start()  # ConcurrentEmulation while another thread's runs
        except BaseException:
            self._close()
            raise
        return self

    def stop(self) -> None:
        try:
            self._interception.stop()
        finally:
            self._close()

    def _close(self) -> None:
        self._ended = True
        try:
            self._dispatcher.close()
            self.engine.close()
        finally:
            self._restore_credentials()
            _swap_wavespeed_client(self._saved_wavespeed_client)
            self._saved_wavespeed_client = None

    def _provide_credentials(self) -> None:
        for name, value in FAKE_CREDENTIALS.items():
            if not os.environ.get(name):
                self._saved_environment[name] = os.environ.get(name)
                os.environ[name] = value
        api = wavespeed_settings()
        if api is not None and not getattr(api, "api_key", None):
            self._saved_wavespeed_key = (api, api.api_key)
            api.api_key = FAKE_CREDENTIALS["WAVESPEED_API_KEY"]

    def _restore_credentials(self) -> None:
        for name, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environment.clear()
        if self._saved_wavespeed_key is not None:
            api, key = self._saved_wavespeed_key
            api.api_key = key
            self._saved_wavespeed_key = None
        # imported inside the emulation, the SDK read the placeholder: not kept after it
        api = wavespeed_settings()
        if (
            api is not None
            and getattr(api, "api_key", None) == FAKE_CREDENTIALS["WAVESPEED_API_KEY"]
        ):
            api.api_key = None

    def __enter__(self) -> Emulation:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __call__(self, func: F) -> F:
        """Decorate a sync or async function to run inside this emulation."""
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return await func(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return run  # type: ignore[return-value]


def wavespeed_settings() -> Any:
    """The wavespeed SDK's settings, if it is imported: it reads its key once, at import."""
    return getattr(getattr(_imported("wavespeed"), "config", None), "api", None)


def _swap_wavespeed_client(client: Any) -> Any:
    """Make ``client`` the wavespeed SDK's cached default client, if it is imported: the
    one it had. Its module-level helpers (``wavespeed.run``, …) make that client on first
    use, with the base URL and key then in force, and keep it for good: one made in an
    emulation (its placeholder key) outlived it, and one made before (for a server's base
    URL, say) was used in it."""
    helpers = _imported("wavespeed.api")
    if helpers is None or not hasattr(helpers, "_default_client"):
        return None
    had, helpers._default_client = helpers._default_client, client
    return had


def _imported(name: str) -> Any:
    import sys

    return sys.modules.get(name)


def emulate(**options: Any) -> Emulation:
    """An `Emulation`: use it with ``with``, or as a decorator. Options: ``seed``,
    ``progression`` (default ``"immediate"``), ``api_keys``, ``unmatched`` (``"fail"`` or
    ``"pass"``), ``contracts``, ``clock``, ``fake_credentials``, or a whole ``config``;
    ``record``, ``replay`` and ``replay_fallback`` (``"emulate"`` or ``"404"``)."""
    return Emulation(**options)
