"""Fault rules: staged failures, matched per request, reproducible under a seed.

A rule names an effect and says which requests it applies to. Effects act in four places:

- the job (decided at submit, seen when the job would finish): ``fail`` (a provider error
  type, a WaveSpeed task code, or a model 422), ``nsfw`` (flagged, blanked outputs),
  ``sparse_output`` (an output without the fields its schema does not require),
  ``cancel``, ``starve`` (never leaves the queue), ``timeout`` (a server-side timeout), and
  ``progression``: the matched jobs move by their own ``progression`` (per endpoint, key,
  input or request) rather than the emulator's;
- the exchange (answered instead of the request): ``http_error`` (429 with Retry-After,
  fal's nginx 502/503/504, 500s…), ``delay``, ``reset`` (the connection drops), ``hang``;
- media downloads: ``media_missing``, ``media_truncated``, ``media_slow``;
- webhooks: ``webhook_fail``, ``webhook_twice``, ``webhook_late``.

A rule matches on every filter it sets: ``provider``, ``endpoint`` (a glob on the endpoint
id, or on the path under the provider's surface for exchanges), ``method``, ``path`` (a
glob on the path under the surface), ``key``, ``inputs`` (fields the input must have with
those values). Of the requests it matches it may take only the ``nth``, or each with
``probability`` (decided by a hash of the emulator's seed, the rule's id and the number of
the match, so the same requests fire whatever else the emulator does, in one process or
many), and it fires at most ``times`` times.

Given a shared `Store`, a `FaultBook` keeps its rules and their counts there
(`emulator.core.shared_faults`): every process on that store then sees and fires the same
rules, ``times`` and ``nth`` counted across all of them.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import itertools
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, NamedTuple

from emulator.core.lifecycle import Progression
from emulator.core.registry import LAYOUTS

if TYPE_CHECKING:
    from emulator.core.store import Store

EFFECTS = {
    "job": ("fail", "nsfw", "sparse_output", "cancel", "starve", "timeout"),
    "pace": ("progression",),
    "exchange": ("http_error", "delay", "reset", "hang"),
    "media": ("media_missing", "media_truncated", "media_slow"),
    "webhook": ("webhook_fail", "webhook_twice", "webhook_late"),
}
_STAGE = {effect: stage for stage, effects in EFFECTS.items() for effect in effects}
#: the longest a delay, hang or slow download may last: every wait in the emulator is bounded
MAX_SECONDS = 300.0


class FaultError(ValueError):
    """A rule that cannot be used, said plainly."""


_TEXT = {"type": "string", "maxLength": 1000}
#: the methods a request may have: a rule on another is refused as added (not as read
#: back: a rule a store kept from before must still load)
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
#: what a rule may say, checked before anything else looks at it: a rule that is accepted
#: can never make a matching request fail in the emulator instead of as staged
RULE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["effect"],
    "properties": {
        "effect": {"enum": sorted(_STAGE)},
        "provider": _TEXT,
        "endpoint": _TEXT,
        "method": {"type": "string", "pattern": "^[A-Za-z]{1,10}$"},
        "path": _TEXT,
        "key": _TEXT,
        "inputs": {"type": "object", "maxProperties": 50},
        "nth": {"type": "integer", "minimum": 1},
        "probability": {"type": "number", "minimum": 0, "maximum": 1},
        "times": {"type": "integer", "minimum": 1},
        "error_type": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"},
        "code": {"type": "integer", "minimum": 0, "maximum": 99999},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "message": _TEXT,
        "retry_after": {"type": "number", "minimum": 0, "maximum": 86400},
        "seconds": {"type": "number", "minimum": 0, "maximum": MAX_SECONDS},
        "progression": {"type": "string", "maxLength": 100},
    },
}


@functools.cache
def _rules_validator() -> Any:
    # jsonschema loads with the first rule, not with every emulator
    from jsonschema import Draft202012Validator

    return Draft202012Validator(RULE_SCHEMA)


def _has_lone_surrogate(value: Any) -> bool:
    """Whether a string in ``value`` (a JSON value: keys too) holds a lone surrogate."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, Mapping):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


@dataclass
class Fault:
    """A staged fault: what it does (``effect``) to the requests it matches, how often and how
    many times."""

    effect: str
    provider: str | None = None
    endpoint: str | None = None
    method: str | None = None
    path: str | None = None
    key: str | None = None
    inputs: dict[str, Any] | None = None
    nth: int | None = None
    probability: float | None = None
    times: int | None = None
    # what the effect does
    error_type: str | None = None  # fal: a request error type (runner_disconnected, …)
    code: int | None = None  # WaveSpeed: a task code (1200, 1400-1405, 5000-5004)
    status: int | None = None  # http_error: the status
    message: str | None = None
    retry_after: float | None = None  # http_error 429/503: the Retry-After header
    seconds: float = 0.0  # delay, hang, media_slow, webhook_late
    progression: str | None = None  # progression: e.g. "polls:3,2"
    # bookkeeping
    id: str = ""
    matched: int = 0
    fired: int = 0

    @property
    def stage(self) -> str:
        return _STAGE[self.effect]

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def definition(self) -> dict[str, Any]:
        """What the rule says, without what a book adds (its id and counts): what
        `from_dict` reads back."""
        return {k: v for k, v in self.as_dict().items() if k not in ("id", "matched", "fired")}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Fault:
        if _has_lone_surrogate(data):  # JSON's "\ud800" reads as one; no answer could say it
            raise FaultError("a rule's text must be characters: it holds a lone surrogate")
        known = {f.name for f in fields(cls)} - {"id", "matched", "fired"}
        unknown = set(data) - known if isinstance(data, Mapping) else set()
        if unknown:
            raise FaultError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        from jsonschema.exceptions import best_match

        error = best_match(_rules_validator().iter_errors(data))
        if error is not None:
            where = ".".join(map(str, error.absolute_path)) or "the rule"
            raise FaultError(f"{where}: {error.message}")
        try:
            fault = cls(**dict(data))
        except TypeError as error:
            raise FaultError(str(error)) from None
        fault.check()
        return fault

    def check(self) -> None:
        if self.effect not in _STAGE:
            raise FaultError(f"effect must be one of {', '.join(sorted(_STAGE))}")
        if self.provider is not None and self.provider not in LAYOUTS:
            raise FaultError(f"provider must be one of {', '.join(sorted(LAYOUTS))}")
        if self.nth is not None and (type(self.nth) is not int or self.nth < 1):
            raise FaultError("nth counts from 1")
        if self.probability is not None and not 0 <= self.probability <= 1:
            raise FaultError("probability must be between 0 and 1")
        if self.times is not None and (type(self.times) is not int or self.times < 1):
            raise FaultError(
                "times must be a whole number from 1 (a rule that never fires tests nothing)"
            )
        if self.path is not None and self.path.startswith("/"):
            raise FaultError(
                f"path {self.path!r} can never match: paths are matched under the provider's "
                f"surface, without a leading slash ({self.path.lstrip('/')!r})"
            )
        if not 0 <= self.seconds <= MAX_SECONDS:
            raise FaultError(f"seconds must be between 0 and {MAX_SECONDS:g}")
        if self.effect == "http_error" and (self.status is None or not 400 <= self.status <= 599):
            raise FaultError("http_error needs a status from 400 to 599")
        if self.effect == "progression":
            if self.progression is None:
                raise FaultError('a progression rule needs progression, e.g. "polls:2,2"')
            try:
                Progression.parse(self.progression)
            except ValueError as error:
                raise FaultError(str(error)) from None
        if self.inputs is not None and not isinstance(self.inputs, dict):
            raise FaultError("inputs must map field names to values")

    def matches(
        self,
        *,
        provider: str,
        endpoint: str,
        method: str = "",
        path: str = "",
        key: str = "",
        payload: Any = None,
    ) -> bool:
        if self.provider is not None and self.provider != provider:
            return False
        if self.endpoint is not None and not fnmatch.fnmatchcase(endpoint, self.endpoint):
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        if self.path is not None and not fnmatch.fnmatchcase(path, self.path):
            return False
        if self.key is not None and self.key != key:
            return False
        if self.inputs:
            if not isinstance(payload, dict):
                return False
            return all(payload.get(name) == value for name, value in self.inputs.items())
        return True


def draw(seed: int | None, rule_id: str, match: int) -> float:
    """A number in [0, 1) for the ``match``-th request ``rule_id`` matched under ``seed``:
    what a ``probability`` is compared with, the same in every process."""
    digest = _rule_hash(seed, rule_id).copy()
    digest.update(str(match).encode())
    return int.from_bytes(digest.digest(), "big") / 2**64


@functools.lru_cache(maxsize=1024)
def _rule_hash(seed: int | None, rule_id: str) -> Any:
    """The hash of a draw's prefix, kept: copying it beats hashing the prefix again."""
    return hashlib.blake2b(f"faults:{seed}:{rule_id}:".encode(), digest_size=8)


@dataclass
class FaultBook:
    """The rules in force, in the order they were added; the first that fires wins.

    ``FaultBook(seed, store=store)`` makes a `SharedFaultBook` instead, whose rules live in
    ``store`` (see `emulator.core.shared_faults`)."""

    seed: int | None = None
    rules: list[Fault] = field(default_factory=list)
    #: given (by keyword), the book is a `SharedFaultBook` kept in that store
    store: Store | None = field(default=None, repr=False, compare=False, kw_only=True)
    #: whether an endpoint served matches a rule's ``endpoint`` glob (of its provider, if
    #: it names one): a rule no request could match is refused (None: not asked)
    served: Callable[[str, str | None], bool] | None = field(
        default=None, repr=False, compare=False, kw_only=True
    )

    def __new__(cls, *args: Any, **kwargs: Any) -> FaultBook:
        if kwargs.get("store") is not None and cls is FaultBook:
            from emulator.core.shared_faults import SharedFaultBook

            return super().__new__(SharedFaultBook)
        return super().__new__(cls)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._index = _index(self.rules)

    def request_scope(self) -> AbstractContextManager[None]:
        """Wrap each request in it: a shared book then checks its rules against the store
        once per request, however often the request asks (here: nothing to check)."""
        return nullcontext()

    def has(self, stage: str) -> bool:
        """Whether any rule acts at ``stage``."""
        return stage in self._index

    def could_fire(self, stage: str, endpoint: str) -> bool:
        """Whether a rule at ``stage`` might fire for ``endpoint`` (before the rest of a
        request is read to ask `pick`)."""
        rules = self._stage_rules(stage)
        return rules is not None and bool(rules.others or endpoint in rules.by_endpoint)

    def wants_inputs(self, stage: str, provider: str, endpoint: str) -> bool:
        """Whether a rule at ``stage`` that might fire for ``provider``'s ``endpoint``
        filters on ``inputs``: an exchange then reads its request's body before `pick`."""
        rules = self._stage_rules(stage)
        return rules is not None and any(
            rule.inputs and rule.provider in (None, provider) for rule in rules.candidates(endpoint)
        )

    def _stage_rules(self, stage: str) -> _StageRules | None:
        return self._index.get(stage)

    def checked(self, fault: Fault | Mapping[str, Any]) -> Fault:
        """``fault`` as a rule, if one that can be used: else `FaultError`, with why."""
        rule = fault if isinstance(fault, Fault) else Fault.from_dict(fault)
        rule.check()
        # Refused as added, not as read: a rule a store kept from before must still load.
        if rule.inputs and rule.stage == "media":
            raise FaultError(
                f"{rule.effect} cannot filter on inputs: a download carries none (name the "
                "medium by path, or stage its job with fail or nsfw)"
            )
        if rule.method is not None and rule.method.upper() not in _METHODS:  # a typo: GETT
            raise FaultError(
                f"method {rule.method!r} is none of {', '.join(_METHODS)}: no request would "
                "match the rule"
            )
        if (
            rule.endpoint is not None
            and self.served
            and not self.served(rule.endpoint, rule.provider)
        ):
            where = f" of {rule.provider}" if rule.provider else ""
            hint = ""
            base, slash, _ = rule.endpoint.rpartition("/")
            if slash and self.served(base, rule.provider):  # a path under an endpoint
                hint = (
                    f": it is a path under endpoint {base!r}; name that endpoint (a job's "
                    f"fault), or set path: {rule.endpoint!r} (an exchange's)"
                )
            raise FaultError(f"no endpoint{where} served matches {rule.endpoint!r}{hint}")
        return rule

    def add(self, fault: Fault | Mapping[str, Any]) -> Fault:
        rule = self.checked(fault)
        with self._lock:
            rule.id = f"fault-{next(self._ids)}"
            self.rules.append(rule)
            self._index = _index(self.rules)
        return rule

    def remove(self, fault_id: str) -> bool:
        with self._lock:
            kept = [rule for rule in self.rules if rule.id != fault_id]
            removed = len(kept) != len(self.rules)
            self.rules = kept
            self._index = _index(kept)
        return removed

    def clear(self, seed: int | None = None) -> None:
        with self._lock:
            self.rules = []
            self._index = {}
            self.seed = seed
            self._ids = itertools.count(1)

    def pick(self, stage: str, **request: Any) -> Fault | None:
        """The rule of ``stage`` that fires for this request, if one does."""
        if stage not in self._index:
            return None  # the common case: nothing to look at
        with self._lock:
            for rule in self._index[stage].candidates(request.get("endpoint", "")):
                if not rule.matches(**request):
                    continue
                rule.matched += 1
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                if rule.nth is not None and rule.matched != rule.nth:
                    continue
                if (
                    rule.probability is not None
                    and draw(self.seed, rule.id, rule.matched) >= rule.probability
                ):
                    continue
                rule.fired += 1
                return rule
        return None


class _StageRules(NamedTuple):
    """One stage's rules, those naming one endpoint exactly found by it: a request looks
    only at the rules that could match it, however many name other endpoints."""

    by_endpoint: dict[str, list[tuple[int, Fault]]]
    others: list[tuple[int, Fault]]  # no endpoint, or a pattern

    def candidates(self, endpoint: str) -> list[Fault]:
        named = self.by_endpoint.get(endpoint, [])
        ordered = sorted([*named, *self.others]) if named and self.others else named or self.others
        return [rule for _, rule in ordered]  # in the order they were added: the first wins


def _index(rules: list[Fault]) -> dict[str, _StageRules]:
    index: dict[str, _StageRules] = {}
    for order, rule in enumerate(rules):
        stage = index.setdefault(rule.stage, _StageRules({}, []))
        pattern = rule.endpoint
        if pattern is None or any(char in pattern for char in "*?["):
            stage.others.append((order, rule))
        else:
            stage.by_endpoint.setdefault(pattern, []).append((order, rule))
    return index
