"""The Redis store's prefix: several emulators in one Redis, each forgetting only its own."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from urllib.parse import quote

import pytest
import redis

from emulator.core.redis_store import RedisStore, key_prefix
from tests.redis_server import redis_server


@pytest.mark.parametrize(
    ("flushed", "kept"),
    [
        ("{t}", "{t}:ci"),  # the start of the other's name, up to its separator
        ("{t}:", "{t}:ci"),
        ("{t}-*", "{t}-job7"),  # glob characters, matched as themselves
        ("{t}-?ob7", "{t}-job7"),
        ("{t}-[j]ob7", "{t}-job7"),
        ("{t}-\\*", "{t}-\\job7"),
        ("{t}%3Aci", "{t}:ci"),  # what another's separator is written as
    ],
)
def test_a_flush_forgets_only_its_own_prefix(session_redis: str, flushed: str, kept: str) -> None:
    name = f"t{secrets.token_hex(4)}"
    ours, theirs = (
        RedisStore(f"{session_redis}?prefix={quote(prefix.format(t=name), safe='')}")
        for prefix in (flushed, kept)
    )
    try:
        for store in (ours, theirs):
            store.batch([("set", "job:1", "x"), ("rpush", "record:entries", "e")])
            store.announce("faults")
        ours.flush()
        assert ours.batch([("get", "job:1"), ("llen", "record:entries")]) == [None, 0]
        assert ours.version("faults") == 1  # the topics' versions outlive a flush
        assert theirs.batch([("get", "job:1"), ("llen", "record:entries")]) == [b"x", 1]
    finally:
        for store in (ours, theirs):
            store.flush()
            store.close()


def test_a_prefix_without_a_separator_or_percent_keeps_its_keys_names() -> None:
    assert key_prefix("provider-emulator") == "provider-emulator:"
    assert key_prefix("team:ci%") == "team%3Aci%25:"


def test_a_unix_socket_is_a_store_with_its_database_number(tmp_path: Path) -> None:
    # unix:///path lost its "//" on the way to redis-py, which refused it, and the ?db= a
    # socket names its database by was dropped
    with redis_server(tmp_path, socket=True) as server:
        assert server.socket is not None
        store = RedisStore(f"unix://{server.socket}?db=3&prefix=t")
        plain = redis.Redis(unix_socket_path=str(server.socket), db=3)
        try:
            store.batch([("set", "job:1", "x")])
            assert plain.get("t:job:1") == b"x"
            assert store.url == f"unix://{server.socket}?db=3&prefix=t"
        finally:
            store.close()
            plain.close()


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("redis://127.0.0.1:1/0?prefx=team", "?prefx="),  # a misspelt prefix
        ("redis://127.0.0.1:1/0?socket_timeout=60", "?socket_timeout="),
        ("redis://127.0.0.1:1/0?prefix=a&prefix=b", "?prefix= once"),
        ("redis://127.0.0.1:1/team", "'team'"),  # a database that is not a number
        ("redis://127.0.0.1:1/0/1", "'0/1'"),
        ("unix:///run/redis.sock?db=x", "'x'"),
    ],
)
def test_what_a_url_asks_that_would_be_ignored_is_refused(url: str, named: str) -> None:
    # each was ignored: the default prefix, or database 0, which another emulator may use
    with pytest.raises(ValueError, match=re.escape(named)):
        RedisStore(url)


def test_a_url_s_prefix_and_database_are_read() -> None:
    store = RedisStore("redis://127.0.0.1:1/2?prefix=team")
    try:
        assert store.prefix == "team:"
        assert store.url == "redis://127.0.0.1:1/2?prefix=team"  # which emulator it is
    finally:
        store.close()
