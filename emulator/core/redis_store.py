"""The shared store on Redis (``--state redis://host:port/db``), through redis-py.

Every key is under one prefix (``provider-emulator:`` unless the URL says
``?prefix=NAME``), so one Redis can hold several emulators and `flush` forgets only ours:
a ``:`` or ``%`` in NAME is written ``%3A`` or ``%25`` (`key_prefix`), so that no prefix
is the start of another (``team:`` would be the start of ``team:ci:``), and the prefix is
matched literally, whatever glob characters it holds. A
batch is a MULTI/EXEC pipeline: atomic, one round trip. Every call is bounded by socket
timeouts; a Redis that is down or slow raises `StoreUnavailable` (the providers answer 503),
calls fail at once for a short `BREAK` after a failure (so a stalled Redis does not stall
every request in turn), and the first call after it tries again: the emulator recovers
when Redis does.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from emulator.core.store import TOPIC, Op, Store, StoreUnavailable

#: seconds a connection or a command may take before the store counts as unavailable
TIMEOUT = 1.0
#: seconds after a failure during which calls fail at once, without waiting on Redis again:
#: a stalled Redis costs one request a `TIMEOUT` now and then, not every request
BREAK = 1.0


class RedisStore(Store):
    def __init__(self, url: str) -> None:
        try:
            import redis
        except ImportError:  # a setting the installation cannot honour: a usage error
            raise ValueError(
                "a redis:// state needs the redis package: pip install 'provider-emulator[redis]'"
            ) from None
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        _check(parts.scheme, parts.path, query)
        named = query.pop("prefix", None)
        self.prefix = key_prefix(named[0] if named else "provider-emulator")
        # redis-py's query options are not passed on (its socket timeouts would undo the
        # store's bounds), but for a database's number: a unix:// socket names one so.
        kept = f"?db={quote(query['db'][0])}" if "db" in query else ""

        def joined(netloc: str) -> str:
            # by hand: urlunsplit drops an empty host's "//" (unix:///run/redis.sock reads
            # unix:/run/redis.sock), which redis-py refuses as none of its schemes
            return f"{parts.scheme}://{netloc}{parts.path}{kept}"

        plain = joined(parts.netloc)
        # shown (health, errors) without its credentials, with the prefix it was given: which
        # of the emulators in one Redis this is, whether Redis answers or not
        shown = f"{'&' if kept else '?'}prefix={quote(named[0], safe='')}" if named else ""
        self.url = joined(parts.netloc.rpartition("@")[2]) + shown
        # Any error of Redis's (down, slow, out of memory, read-only after a failover, a
        # refused password) is the store being unavailable: a 503, never a 500.
        self._errors = (redis.RedisError, OSError)
        self._client = redis.Redis.from_url(
            plain,
            socket_timeout=TIMEOUT,
            socket_connect_timeout=TIMEOUT,
            health_check_interval=30,
        )
        self._guarded = self._client.register_script(_GUARDED)
        self._trips = 0
        self._lock = threading.Lock()
        self._broken_until, self._failure = 0.0, ""

    def batch(self, ops: Sequence[Op]) -> list[Any]:
        pipe = self._client.pipeline(transaction=len(ops) > 1)
        for op in ops:
            _queue(pipe, self.prefix, op)
        results = self._execute(pipe.execute)
        return [_result(op[0], value) for op, value in zip(ops, results, strict=True)]

    def guarded(self, guard: Op, ops: Sequence[Op]) -> list[Any] | None:
        words = [word for op in (guard, *ops) for word in _counted(self.prefix, op)]
        results = self._execute(lambda: self._guarded(args=words))
        if results is None:
            return None
        answers = zip(ops, results, strict=True)
        return [_result(op[0], _from_script(op[0], value)) for op, value in answers]

    def _execute(self, call: Callable[[], Any]) -> Any:
        """``call``'s answer from Redis; `StoreUnavailable` for any error of Redis's, and at
        once for a `BREAK` after one."""
        if time.monotonic() < self._broken_until:
            raise StoreUnavailable(self._failure)
        try:
            return call()
        except self._errors as exc:
            self._failure = f"Redis at {self.url}: {exc}"
            self._broken_until = time.monotonic() + BREAK
            raise StoreUnavailable(self._failure) from None
        finally:
            with self._lock:
                self._trips += 1

    def flush(self) -> None:
        try:
            topics = (self.prefix + TOPIC).encode()
            keys = [
                key
                for key in self._client.scan_iter(match=_literal(self.prefix) + "*", count=1000)
                if not key.startswith(topics)
            ]
            for start in range(0, len(keys), 1000):
                self._client.delete(*keys[start : start + 1000])
        except self._errors as exc:
            raise StoreUnavailable(f"Redis at {self.url}: {exc}") from None

    def close(self) -> None:
        self._client.close()

    @property
    def round_trips(self) -> int:
        return self._trips


def _check(scheme: str, path: str, query: dict[str, list[str]]) -> None:
    """A `ValueError` for what the URL asks that would be ignored: a misspelt ``?prefix=``
    or a database that is not a number had left the emulator on the default prefix, or
    database 0, where another emulator may be (and its reset forget every job there)."""
    for name, values in query.items():
        if name not in ("prefix", "db"):
            raise ValueError(
                f"a Redis state's URL takes ?prefix=NAME and ?db=N, not ?{name}= "
                "(the emulator sets redis-py's other options itself)"
            )
        if len(values) > 1:
            raise ValueError(f"a Redis state's URL gives ?{name}= once, not {len(values)} times")
    database = path.strip("/") if scheme != "unix" else ""
    database = query.get("db", [database])[0]
    if database and not (database.isascii() and database.isdigit()):
        raise ValueError(f"a Redis database is a number (redis://HOST:PORT/N), not {database!r}")


def key_prefix(name: str) -> str:
    """What every key of the emulator named ``name`` starts with: ``name:``, its own ``:``
    and ``%`` percent-encoded. With no ``:`` in a name but the last, one prefix is never
    the start of another's: a flush of ``team`` leaves ``team:ci`` alone."""
    return name.replace("%", "%25").replace(":", "%3A") + ":"


def _literal(text: str) -> str:
    """``text`` as a SCAN pattern that matches only itself (Redis's glob: ``*``, ``?``,
    ``[…]``, escaped by a backslash)."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


#: ``tally``: a counter that is forgotten once back at zero, so that a per-key count of keys
#: long gone leaves nothing behind (Redis keeps a string at 0); ``ztally``: a sorted set's
#: member counted likewise (what keys hold, ranked), forgotten at zero or below; a batch's
#: and a guarded batch's script both run them
_TALLY_FUNCTION = """
local function tally(key, by)
    local value = redis.call('incrby', key, by)
    if value == 0 then redis.call('del', key) end
    return value
end
local function ztally(key, member, by)
    local value = tonumber(redis.call('zincrby', key, by, member))
    if value <= 0 then redis.call('zrem', key, member) end
    return value
end
"""
_TALLY = _TALLY_FUNCTION + "return tally(KEYS[1], ARGV[1])"
_ZTALLY = _TALLY_FUNCTION + "return ztally(KEYS[1], ARGV[1], ARGV[2])"


#: `Store.guarded`: its operations as counted words (how many, then the command's own),
#: the guard's first; the results of the rest, or nil if the guard answered 0 or nil.
#: Lua's unpack gives at most some 8,000 values: a longer command (a big rpush or hset)
#: runs in parts of PART arguments, their answers added (an rpush's: its last part's; an
#: hmget's: joined).
_GUARDED = (
    _TALLY_FUNCTION
    + """
local PART = 4000
local at = 1
local function call_next()
    local count = tonumber(ARGV[at])
    local name, key = ARGV[at + 1], ARGV[at + 2]
    local first, last = at + 3, at + count
    at = last + 1
    if name == 'tally' then return tally(key, ARGV[first]) end
    if name == 'ztally' then return ztally(key, ARGV[first], ARGV[first + 1]) end
    local answer = redis.call(name, key, unpack(ARGV, first, math.min(last, first + PART - 1)))
    for start = first + PART, last, PART do
        local more = redis.call(name, key, unpack(ARGV, start, math.min(last, start + PART - 1)))
        if name == 'rpush' then answer = more
        elseif type(answer) == 'table' then  -- an hmget's values: joined, in order
            for i = 1, #more do answer[#answer + 1] = more[i] end
        else answer = answer + more end
    end
    return answer
end
local held = call_next()
if held == 0 or not held then return nil end
local results = {}
while at <= #ARGV do results[#results + 1] = call_next() end
return results
"""
)


def _counted(prefix: str, op: Op) -> list[Any]:
    """``op`` as the words of a Redis command, after how many they are."""
    name, key, *args = op
    key = prefix + key
    if name == "incr":
        words = ["incrby", key, *(args or [1])]  # Redis's INCRBY has no default step
    elif name == "delete":
        words = ["del", key, *(prefix + other for other in args)]
    elif name == "zadd":
        member, score = args
        words = ["zadd", key, score, member]
    elif name == "hset":
        words = ["hset", key, *(word for pair in args[0].items() for word in pair)]
    elif name in (
        "set",
        "tally",
        "ztally",
        "zrem",
        "rpush",
        "hgetall",
        "hmget",
        "hincrby",
        "hdel",
        "llen",
    ):
        words = [name, key, *args]  # the script runs a tally itself (`_TALLY_FUNCTION`)
    else:  # a read that may answer nothing would end the script's answer early
        raise ValueError(f"{name} cannot run in a guarded batch")
    return [len(words), *words]


def _from_script(name: str, value: Any) -> Any:
    """A script's answer to ``name`` as a pipeline would give it (a hash as pairs, here)."""
    if name == "hgetall":
        return dict(zip(value[::2], value[1::2], strict=True))
    if name == "set":  # Redis's status reply, where a pipeline answers True
        return True
    return value


def _queue(pipe: Any, prefix: str, op: Op) -> None:
    name, key, *args = op
    key = prefix + key
    if name == "incr":
        pipe.incrby(key, *args)
    elif name == "tally":
        pipe.eval(_TALLY, 1, key, *args)
    elif name == "ztally":
        pipe.eval(_ZTALLY, 1, key, *args)
    elif name == "delete":
        pipe.delete(key, *(prefix + other for other in args))
    elif name == "zadd":
        member, score = args
        pipe.zadd(key, {member: score})
    elif name == "hset":
        pipe.hset(key, mapping=args[0])
    elif name == "zrangebyscore":
        high, count = args
        pipe.zrangebyscore(key, "-inf", high, start=0, num=count)
    else:
        getattr(pipe, name)(key, *args)


def _result(name: str, value: Any) -> Any:
    if name == "hgetall":
        return {field.decode(): item for field, item in value.items()}
    if name in ("zrange", "zrangebyscore"):
        return [member.decode() for member in value]
    if name in ("setnx", "hsetnx", "zrem"):
        return bool(value)
    return value
