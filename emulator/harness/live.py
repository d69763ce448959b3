"""Runs against the real providers, opt-in and under a hard spend cap.

    session = LiveSession("fal", max_spend=0.10)      # needs FAL_KEY; raises LiveError
    session.verify_key()                               # a non-billable call: 401 → LiveError
    exchange = session.run("fal-ai/bitdance", {"prompt": "a cat"})   # booked, then made
    print(session.ledger())

`run` estimates a call's cost (``pricing.py``) *before* it is made and refuses it
(`SpendCapExceeded`) when it could take the total over the cap; every decision is written
in the ledger, and a call the provider refused (no job: nothing billed) is released from
it. A provider busy or briefly down (a 429, a 502, 503 or 504) is waited out and asked
again, a few times; one that stays so makes the call `Inconclusive`: it says nothing of the
provider's behaviour. `authorize` asks the same question without booking anything. The base URLs
come from `Upstreams`: the real hosts, or an override (how the whole mode is tested
offline, against a second emulator).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from emulator.config import EmulatorConfig
from emulator.contracts.documents import Contracts
from emulator.contracts.served import served_contracts
from emulator.harness.calls import (
    KEY_VARIABLES,
    TRANSIENT,
    Caller,
    CallError,
    Exchange,
    KeyRejected,
    Step,
    retry_wait,
)
from emulator.harness.ledger import Entry, Ledger
from emulator.harness.pricing import estimate, price_of
from emulator.http.upstream import Upstreams
from emulator.providers.registry import CANONICAL_HOSTS

__all__ = [
    "DEFAULT_MAX_SPEND",
    "KEY_VARIABLES",
    "Exchange",
    "CallError",
    "Inconclusive",
    "Ledger",
    "LiveError",
    "LiveSession",
    "LiveSessions",
    "SpendCapExceeded",
    "check_spend_cap",
    "live_problem",
]

DEFAULT_MAX_SPEND = 0.10
#: how many times a request the provider answered `TRANSIENT` is sent again
RETRIES = 3


class LiveError(RuntimeError):
    """A live run that cannot go ahead: not opted in, no key, a rejected key, a bad cap."""


class SpendCapExceeded(LiveError):
    """A billable call refused because it could take the spend over the cap."""


class Inconclusive(LiveError):
    """A call the provider kept answering as busy or briefly down (`TRANSIENT`): it says
    nothing of how the provider behaves, and is not to be recorded or compared."""


def live_problem(provider: str, live: bool, environ: Mapping[str, str] | None = None) -> str | None:
    """Why a live run against ``provider`` must be skipped, or None when it may run;
    `ValueError` naming the providers for any other (a bare ``KeyError: 'fall'`` named
    nothing to do)."""
    if provider not in KEY_VARIABLES:
        raise ValueError(f"unknown provider {provider!r}: one of {', '.join(KEY_VARIABLES)}")
    variable = KEY_VARIABLES[provider]
    if not live:
        return f"live runs are off: pass --live and set {variable} to run against {provider}"
    if not _key(provider, os.environ if environ is None else environ):
        return f"--live was given but {variable} is not set: no call to {provider} was made"
    return None


def _key(provider: str, environ: Mapping[str, str]) -> str | None:
    """The provider's key, None when unset or blank (a key of spaces is no key: it only
    sent a live run to the network to be rejected)."""
    key = environ.get(KEY_VARIABLES[provider])
    return key if key and key.strip() else None


def check_spend_cap(max_spend: float) -> None:
    """`LiveError` unless ``max_spend`` is a cap some call fits under, and a cap at all
    (infinity is none)."""
    if not max_spend > 0:
        raise LiveError(f"--max-spend must be more than 0 USD (got {max_spend}): no call fits")
    if not math.isfinite(max_spend):
        raise LiveError(f"--max-spend must be a finite amount of USD (got {max_spend}): no cap")


class LiveSession:
    """Calls to one real provider, each authorised against the spend cap first."""

    def __init__(
        self,
        provider: str,
        *,
        upstreams: Upstreams | None = None,
        max_spend: float = DEFAULT_MAX_SPEND,
        contracts: Contracts | None = None,
        environ: Mapping[str, str] | None = None,
        timeout: float = 300.0,
        ledger: Ledger | None = None,
        poll_interval: float = 0.5,
    ) -> None:
        """``ledger``: one shared with other sessions, so that the cap covers them all."""
        if provider not in KEY_VARIABLES:
            raise LiveError(f"no live mode for provider {provider!r}")
        check_spend_cap(max_spend)
        key = _key(provider, os.environ if environ is None else environ)
        if not key:
            raise LiveError(f"{KEY_VARIABLES[provider]} is not set: no live run against {provider}")
        self.provider = provider
        self.upstreams = upstreams or Upstreams.parse(CANONICAL_HOSTS, environ=environ)
        self.contracts = contracts or served_contracts(EmulatorConfig())
        self._ledger = ledger or Ledger(cap=max_spend)
        self._caller = Caller(
            provider,
            self.upstreams,
            key,
            timeout=timeout,
            poll_interval=poll_interval,
            retries=RETRIES,
        )

    def authorize(self, endpoint_id: str, arguments: Mapping[str, Any]) -> float:
        """The call's estimated cost; `SpendCapExceeded` if it could take the spend over
        the cap. A check only: nothing is booked (`run` books the call it makes)."""
        cost, _ = self._estimate(endpoint_id, arguments)
        if not self._ledger.fits(cost):
            raise self._refusal(endpoint_id, cost)
        return cost

    def _estimate(self, endpoint_id: str, arguments: Mapping[str, Any]) -> tuple[float, str]:
        """The call's estimated cost and the price it comes from."""
        endpoint = self.contracts.get(self.provider, endpoint_id)
        if endpoint is None:
            raise LiveError(f"no {self.provider} contract for {endpoint_id!r}: cost unknown")
        price = price_of(endpoint)
        return estimate(endpoint, arguments), f"${price.usd}/{price.per} ({price.source})"

    def _refusal(self, endpoint_id: str, cost: float) -> SpendCapExceeded:
        return SpendCapExceeded(
            f"refused: {endpoint_id} is estimated at ${cost:.4f}, and ${self._ledger.spent:.4f}"
            f" of the ${self._ledger.cap:g} cap is spent (raise --max-spend to allow it)"
        )

    def _book(self, endpoint_id: str, arguments: Mapping[str, Any]) -> Entry:
        """Write the call in the ledger, allowed or refused (`SpendCapExceeded`)."""
        cost, price = self._estimate(endpoint_id, arguments)
        entry = self._ledger.book(endpoint_id, cost, price)
        if not entry.allowed:
            raise self._refusal(endpoint_id, cost)
        return entry

    def ledger(self) -> Ledger:
        return self._ledger

    def close(self) -> None:
        self._caller.close()

    def __enter__(self) -> LiveSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def verify_key(self) -> None:
        """A non-billable call: a key the provider rejects is one clear `LiveError`."""
        try:
            self._caller.probe()
        except CallError as exc:
            raise LiveError(str(exc)) from None

    def run(self, endpoint_id: str, arguments: Mapping[str, Any]) -> Exchange:
        """Book the call in the ledger (refused, `SpendCapExceeded`, if it could take the
        spend over the cap), then submit, poll until done and fetch the result. A submit
        the provider refused is released from the ledger (it made no job): one whose key
        it refused (401, 403) as well, and that is a `LiveError`; one refused as
        `TRANSIENT` is made again after its Retry-After, `RETRIES` times at most, and
        booked again each time. `Inconclusive` when the submit, or a poll, still is."""
        attempt = 0
        while True:
            entry = self._book(endpoint_id, arguments)
            try:
                exchange = self._caller.run(endpoint_id, arguments)
            except KeyRejected as exc:
                if exc.at_submit:
                    self._ledger.release(entry, str(exc))
                raise LiveError(str(exc)) from None
            submit = exchange.steps[0]
            if submit.status >= 400:
                self._ledger.release(entry, f"{self.provider} answered {submit.status}")
            transient = next((s for s in exchange.steps if s.status in TRANSIENT), None)
            if transient is None:
                return exchange
            wait = retry_wait(transient, attempt) if transient is submit else None
            if wait is None or attempt == RETRIES:
                raise self._inconclusive(exchange, transient, attempt + 1)
            time.sleep(wait)
            attempt += 1

    def _inconclusive(self, exchange: Exchange, transient: Step, submits: int) -> Inconclusive:
        """What a call is whose ``transient`` answer stayed so, after ``submits`` submits."""
        endpoint = exchange.endpoint
        if transient is exchange.steps[0]:
            what, tries = f"the submit of {endpoint}", f"{submits} time{'s' * (submits > 1)}"
            billed = "not billed"
        else:
            what, tries, billed = f"a poll of its {endpoint} job", "", "billed: the job was made"
        after = transient.headers.get("retry-after")
        told = ", ".join(filter(None, [tries, after and f"Retry-After: {after}"]))
        return Inconclusive(
            f"{self.provider} answered {transient.status} to {what}"
            f"{f' ({told})' if told else ''}: inconclusive, nothing recorded ({billed})"
        )


class LiveSessions:
    """The live sessions of one test run: one per provider, one ledger and cap for all."""

    def __init__(
        self,
        *,
        live: bool,
        max_spend: float = DEFAULT_MAX_SPEND,
        upstream: list[str] | tuple[str, ...] = (),
        environ: Mapping[str, str] | None = None,
        ledger_path: Path | None = None,
    ) -> None:
        """``ledger_path``: the file of a ledger the run's other processes share."""
        check_spend_cap(max_spend)
        self.live = live
        self.environ = os.environ if environ is None else environ
        self.upstreams = Upstreams.parse(CANONICAL_HOSTS, upstream, self.environ)
        self.ledger = Ledger(cap=max_spend, path=ledger_path)
        self._sessions: dict[str, LiveSession] = {}
        #: why each provider whose key was rejected cannot run (its probe's answer)
        self._rejected: dict[str, str] = {}

    def skip_reason(self, provider: str) -> str | None:
        return live_problem(provider, self.live, self.environ)

    def session(self, provider: str) -> LiveSession:
        """The provider's session, its key verified once; `LiveError` when it cannot run."""
        problem = self.skip_reason(provider)
        if problem:
            raise LiveError(problem)
        if provider in self._rejected:  # probed once: the key does not come back to life
            raise LiveError(self._rejected[provider])
        if provider not in self._sessions:
            session = LiveSession(
                provider,
                upstreams=self.upstreams,
                max_spend=self.ledger.cap,
                environ=self.environ,
                ledger=self.ledger,
            )
            try:
                session.verify_key()
            except LiveError as rejected:
                session.close()
                self._rejected[provider] = str(rejected)
                raise
            self._sessions[provider] = session
        return self._sessions[provider]

    def close(self) -> None:
        for session in self._sessions.values():
            session.close()
