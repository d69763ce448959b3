"""Fault rules kept in a shared `Store`, so that every process on it fires them as one.

Kept under ``faults:``: ``faults:rules`` (rule id -> the rule as JSON), ``faults:ids`` (the
counter rule ids are drawn from: unique across processes, restarted by `clear`),
``faults:matched`` and ``faults:fired`` (rule id -> count, moved by ``hincrby``, so ``nth``
and ``times`` count every process's requests), ``faults:seed`` (what ``probability`` is
drawn under: `emulator.core.faults.draw` of the seed, the rule id and the match number, the
same whichever process decides).

Each process caches the rules and reloads them when ``store.version("faults")`` moved
(`add`, `remove` and `clear` announce it). That check is one round trip; inside
``with book.request_scope():`` it is made once for the whole request however many of
`has`, `could_fire`, `pick` and `rules` the request asks. A request that no rule matches
costs that one round trip; a rule that matches costs one more (its match count), two when
it fires. A rule that can never fire again (``times`` used up, its ``nth`` match passed) is
remembered as spent until the rules change, and costs nothing more: so its ``matched``
count stops at about where it was spent (``fired`` stays exact).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from emulator.core.faults import Fault, FaultBook, _index, _StageRules, draw
from emulator.core.store import Store, StoreUnavailable, announcing

RULES, IDS, MATCHED, FIRED, SEED = (
    "faults:rules",
    "faults:ids",
    "faults:matched",
    "faults:fired",
    "faults:seed",
)
TOPIC = "faults"

#: the books whose rules were checked fresh during the current request (`request_scope`)
_checked: ContextVar[set[int] | None] = ContextVar("faults_checked", default=None)


class SharedFaultBook(FaultBook):
    """A `FaultBook` whose rules, counts and seed live in a `Store`.
    ``FaultBook(seed, store=store)`` makes one."""

    def __init__(
        self,
        seed: int | None = None,
        rules: list[Fault] | None = None,
        *,
        store: Store,
        served: Callable[[str, str | None], bool] | None = None,
    ) -> None:
        self.store: Store = store
        self.served = served
        self._version: int | None = None  # the version the cache was loaded at
        self._cached: dict[str, Fault] = {}  # by id, in the order added
        self._index: dict[str, _StageRules] = {}
        self._seed = seed
        self._spent: set[str] = set()  # rules this process saw that can never fire again
        self._loading = threading.Lock()
        try:
            store.do("setnx", SEED, json.dumps(seed))  # the first process's seed, until a clear
        except StoreUnavailable:
            pass  # a store down at start-up: the rules are read (and 503s given) when it is back
        for rule in rules or ():
            self.add(rule)

    # -- what the dataclass fields were -------------------------------------------------

    @property
    def seed(self) -> int | None:
        self._fresh()
        return self._seed

    @seed.setter
    def seed(self, value: int | None) -> None:
        """Draw the ``probability`` rules under ``value`` from now on, in every process."""
        self.store.batch([("set", SEED, json.dumps(value)), announcing(TOPIC)])
        self._forget()

    @property
    def rules(self) -> list[Fault]:
        """The rules in force, with every process's match and fire counts."""
        self._fresh()
        matched, fired = self.store.batch([("hgetall", MATCHED), ("hgetall", FIRED)])
        for rule in self._cached.values():
            rule.matched = int(matched.get(rule.id) or 0)
            rule.fired = int(fired.get(rule.id) or 0)
        return list(self._cached.values())

    @rules.setter
    def rules(self, value: list[Fault]) -> None:
        raise AttributeError("change shared rules with add, remove and clear")

    # -- the cache ------------------------------------------------------------------------

    @contextmanager
    def request_scope(self) -> Iterator[None]:
        """Within it, the rules are checked against the store once: wrap each request."""
        token = _checked.set(set())
        try:
            yield
        finally:
            _checked.reset(token)

    def _fresh(self) -> dict[str, _StageRules]:
        """The index of the rules, reloaded first if another process changed them."""
        checked = _checked.get()
        if checked is not None and id(self) in checked:
            return self._index
        version = self.store.version(TOPIC)
        if version != self._version:
            with self._loading:  # one load per version: a second would forget what is spent
                if version != self._version:
                    self._load()
                    # read before loading: a change in between reloads again
                    self._version = version
        if checked is not None:
            checked.add(id(self))
        return self._index

    def _load(self) -> None:
        stored, seed = self.store.batch([("hgetall", RULES), ("get", SEED)])
        rules = {}
        for rule_id in sorted(stored, key=_number):
            data = json.loads(stored[rule_id])
            known = self._cached.get(rule_id)
            # the same object while the rule is unchanged: what `add` and `pick` handed out
            rules[rule_id] = known if known and known.definition() == data else _rule(rule_id, data)
        self._cached = rules
        self._index = _index(list(rules.values()))
        self._seed = json.loads(seed) if seed else self._seed
        self._spent = set()

    def _forget(self) -> None:
        self._version = None
        checked = _checked.get()
        if checked is not None:
            checked.discard(id(self))

    # -- the FaultBook interface ----------------------------------------------------------

    def has(self, stage: str) -> bool:
        return stage in self._fresh()

    def _stage_rules(self, stage: str) -> _StageRules | None:
        return self._fresh().get(stage)

    def add(self, fault: Fault | Mapping[str, Any]) -> Fault:
        rule = self.checked(fault)
        rule.id = f"fault-{self.store.do('incr', IDS, 1)}"
        rule.matched = rule.fired = 0
        self.store.batch(
            [("hset", RULES, {rule.id: json.dumps(rule.definition())}), announcing(TOPIC)]
        )
        self._cached[rule.id] = rule  # so that the reload keeps this very object
        self._forget()
        return rule

    def remove(self, fault_id: str) -> bool:
        removed, *_ = self.store.batch(
            [
                ("hdel", RULES, fault_id),
                ("hdel", MATCHED, fault_id),
                ("hdel", FIRED, fault_id),
                announcing(TOPIC),  # (for nothing, when no rule had that id)
            ]
        )
        if removed:
            self._forget()
        return bool(removed)

    def clear(self, seed: int | None = None) -> None:
        """Forget every rule and count, in every process on the store; rule ids restart."""
        changes = [("delete", RULES, IDS, MATCHED, FIRED), ("set", SEED, json.dumps(seed))]
        self.store.batch([*changes, announcing(TOPIC)])
        self._forget()

    def pick(self, stage: str, **request: Any) -> Fault | None:
        rules = self._fresh().get(stage)
        if rules is None:
            return None
        for rule in rules.candidates(request.get("endpoint", "")):
            if rule.id not in self._spent and rule.matches(**request) and self._fires(rule):
                return rule
        return None

    def _fires(self, rule: Fault) -> bool:
        """Count a match of ``rule`` in the store; whether it fires for it."""
        unconditional = rule.nth is None and rule.probability is None
        ops = [("hincrby", MATCHED, rule.id, 1)]
        if unconditional:  # only times limits it: count the firing in the same trip
            ops.append(("hincrby", FIRED, rule.id, 1))
        counts = self.store.batch(ops)
        rule.matched = int(counts[0])
        if not unconditional:
            if rule.nth is not None and rule.matched != rule.nth:
                if rule.matched > rule.nth:
                    self._spent.add(rule.id)
                return False
            if rule.probability is not None and (
                draw(self._seed, rule.id, rule.matched) >= rule.probability
            ):
                return False
            counts.append(self.store.do("hincrby", FIRED, rule.id, 1))
        rule.fired = int(counts[-1])
        if rule.times is not None and rule.fired > rule.times:
            # over by this request (another process took the last firing): undo, so the
            # count stays exact, and stop asking
            rule.fired = int(self.store.do("hincrby", FIRED, rule.id, -1))
            self._spent.add(rule.id)
            return False
        return True


def _number(rule_id: str) -> int:
    return int(rule_id.rpartition("-")[2])


def _rule(rule_id: str, data: dict[str, Any]) -> Fault:
    rule = Fault.from_dict(data)
    rule.id = rule_id
    return rule
