import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import fal_client
import pytest

from emulator import emulate
from emulator.core.record import RawEntry, RequestRecord, mask, mask_key, masked_query
from emulator.core.store import MemoryStore, Store

MakeRecord = Callable[..., RequestRecord]


@pytest.fixture
def make_record(any_store: Store | None) -> Iterator[MakeRecord]:
    """Records in this process (no store) or in each kind of shared store; closed after."""
    made: list[RequestRecord] = []

    def make(**limits: Any) -> RequestRecord:
        made.append(RequestRecord(**limits, store=any_store))
        return made[-1]

    yield make
    for record in made:
        record.close()


def raw(
    method: str = "GET",
    path: str = "/fal/queue/a/requests/1/status",
    status: int = 202,
    key: str = "k",
    body: bytes = b"",
) -> RawEntry:
    headers = [(b"host", b"queue.fal.run"), (b"authorization", f"Key {key}".encode())]
    entry = RawEntry(method, headers, path)
    entry.query, entry.status, entry.started, entry.answered = b"logs=1", status, 10.0, 10.5
    entry.body += body
    entry.body_size = len(body)
    return entry


def test_filters_combine(make_record: MakeRecord) -> None:
    record = make_record()
    record.add(raw())
    record.add(raw("POST", "/fal/queue/a", status=200))
    record.add(raw(path="/wavespeed/api/v3/predictions/x/result", key="other", status=200))
    assert len(record.filter(provider="fal")) == 2
    assert len(record.filter(method="get")) == 2
    assert len(record.filter(path="/status", status=202)) == 1
    assert [e.provider for e in record.filter(key="other")] == ["wavespeed"]
    first = next(iter(record))
    assert (first.host, first.query, first.key, first.duration) == (
        "queue.fal.run",
        "logs=1",
        "k",
        0.5,
    )


@pytest.mark.parametrize(
    ("criterion", "words"),
    [({"provider": "fal.ai"}, "provider must be one of fal, wavespeed, not 'fal.ai'"),
     ({"status": "200"}, "status must be an int .*, not '200'")],
)  # fmt: skip
def test_a_criterion_that_can_match_nothing_is_refused(
    make_record: MakeRecord, criterion: dict[str, Any], words: str
) -> None:
    # each matched nothing, so that `assert not record.filter(provider="fal.ai")` passed
    # whatever the client sent (a newcomer's review)
    record = make_record()
    record.add(raw())
    with pytest.raises(ValueError, match=words):
        record.filter(**criterion)


def test_the_record_is_bounded(make_record: MakeRecord) -> None:
    record = make_record(max_entries=2)
    for i in range(3):
        record.add(raw(status=200 + i))
    assert [e.status for e in record] == [201, 202]


def test_a_key_keeps_its_own_newest_up_to_its_bound(make_record: MakeRecord) -> None:
    record = make_record(max_entries_per_key=2)
    for i in range(4):
        record.add(raw(key="flood", status=200 + i))
    record.add(raw(key="quiet", status=299))
    assert [(e.key, e.status) for e in record] == [
        ("flood", 202),
        ("flood", 203),
        ("quiet", 299),
    ]


def test_a_busy_keys_bytes_are_counted_as_its_oldest_make_room(make_record: MakeRecord) -> None:
    record = make_record(max_entries_per_key=2, max_bytes=35)
    for i in range(5):
        record.add(raw("POST", key="flood", body=b"f" * 10, status=300 + i))
    record.add(raw("POST", key="quiet", body=b"q" * 10, status=200))
    record.add(raw("POST", key="flood", body=b"f" * 20, status=305))  # 40 bytes in all
    assert [e.status for e in record.filter(key="flood")] == [305]
    assert [e.status for e in record.filter(key="quiet")] == [200]


def test_one_keys_traffic_leaves_the_other_keys_requests(make_record: MakeRecord) -> None:
    """(One buffer for all: a teammate's 10,000 polls pushed every other key's requests
    out of the record, and the assertions about them failed: an audit.)"""
    record = make_record(max_entries=6, max_entries_per_key=100)
    record.add(raw("POST", key="quiet", status=200))
    for i in range(2):
        record.add(raw(key="calm", status=210 + i))
    for i in range(20):
        record.add(raw(key="flood", status=300 + i))
    assert [e.status for e in record.filter(key="quiet")] == [200]
    assert [e.status for e in record.filter(key="calm")] == [210, 211]
    # the key holding the most lost its oldest: it keeps the rest of the room
    assert [e.status for e in record.filter(key="flood")] == [317, 318, 319]
    assert len(record) == 6 and [e.key for e in record][:3] == ["quiet", "calm", "calm"]


def test_past_the_bytes_bound_the_key_holding_the_most_bytes_loses(
    make_record: MakeRecord,
) -> None:
    record = make_record(max_bytes=35)
    record.add(raw("POST", key="quiet", body=b"q" * 10, status=200))
    for i in range(5):
        record.add(raw("POST", key="flood", body=b"f" * 10, status=300 + i))
    for i in range(3):
        record.add(raw(key="polls", status=400 + i))  # no body: no bytes
    assert [e.status for e in record.filter(key="quiet")] == [200]
    assert [e.status for e in record.filter(key="flood")] == [303, 304]
    assert [e.status for e in record.filter(key="polls")] == [400, 401, 402]


def test_credentials_are_masked_in_the_headers_kept(make_record: MakeRecord) -> None:
    record = make_record()
    record.add(raw(key="abcd1234:secretsecret"))
    entry = next(iter(record))
    assert entry.headers["authorization"] == "Key ****cret"
    assert entry.headers["host"] == "queue.fal.run"
    assert mask("short") == "****"


def test_a_body_over_the_limit_is_cut_and_not_read_as_json(make_record: MakeRecord) -> None:
    record = make_record()
    record.add(raw("POST", body=b'{"prompt": "a cat"}'))
    cut = raw("POST", body=b'{"prompt": "a cat"}')
    cut.body_size += 100
    record.add(cut)
    whole, part = record
    assert whole.json == {"prompt": "a cat"} and not whole.truncated
    assert part.truncated and part.json is None


def test_calls_show_what_the_clients_code_sent() -> None:
    with emulate(seed=1) as emulation:
        fal_client.subscribe("fal-ai/bitdance", arguments={"prompt": "a cat"})
        fal_client.run("fal-ai/bitdance", arguments={"prompt": "a dog"})
        calls = emulation.calls("fal-ai/bitdance")
        assert calls.call_count == 2 and calls.called
        assert [c.json["prompt"] for c in calls] == ["a cat", "a dog"]
        assert calls.last.headers["authorization"].startswith("Key ****")
        assert not emulation.calls("fal-ai/bytedance/seedream/v4/text-to-image").called
        polls = emulation.requests.filter(endpoint="fal-ai/bitdance", method="GET")
        assert polls and all("/requests/" in p.path for p in polls)


def test_no_call_of_an_endpoint_says_which_endpoints_were_called() -> None:
    with emulate(seed=1) as emulation:
        with pytest.raises(AssertionError, match="no call of a model was recorded"):
            _ = emulation.calls().last
        fal_client.run("fal-ai/bitdance", arguments={"prompt": "a cat"})
        with pytest.raises(AssertionError) as missing:
            _ = emulation.calls("fal-ai/bitdanse").last  # a typo
    assert str(missing.value) == (
        "no call of 'fal-ai/bitdanse' was recorded (calls of: fal-ai/bitdance (1))"
    )


def test_the_body_limit_is_the_records() -> None:
    with emulate() as emulation:
        emulation.engine.record.body_bytes = 8
        fal_client.run("fal-ai/bitdance", arguments={"prompt": "a long prompt"})
        call = emulation.calls().last
        assert len(call.body) == 8 and call.truncated and call.json is None


def test_the_record_is_bounded_in_bytes_too(make_record: MakeRecord) -> None:
    record = make_record(max_bytes=25)
    for n in range(4):
        record.add(raw("POST", body=b"x" * 10, status=200 + n))
    assert [e.status for e in record] == [202, 203]


def test_clear_forgets_every_entry(make_record: MakeRecord) -> None:
    record = make_record()
    record.add(raw())
    assert len(record) == 1
    record.clear()
    assert len(record) == 0 and list(record) == []
    record.add(raw(status=201))
    assert [entry.status for entry in record.filter(status=201)] == [201]


def test_entries_of_requests_alike_share_what_they_have_in_common() -> None:
    record = RequestRecord()  # a shared record's entries leave for the store: nothing shared
    headers = [(b"host", b"queue.fal.run"), (b"authorization", b"Key k")]
    first = record.entry("GET", "/fal/queue/a/requests/1/status", b"logs=0", headers)
    again = record.entry("GET", "/fal/queue/a/requests/1/status", b"logs=0", list(headers))
    other = record.entry("GET", "/fal/queue/a/requests/2/status", b"logs=0", headers)
    assert again.headers is first.headers and again.path is first.path
    assert other.headers is not first.headers
    for entry in (first, again, other):
        entry.status = 202
        record.add(entry)
    assert [(e.path, e.key, e.query) for e in record] == [
        ("/fal/queue/a/requests/1/status", "k", "logs=0"),
        ("/fal/queue/a/requests/1/status", "k", "logs=0"),
        ("/fal/queue/a/requests/2/status", "k", "logs=0"),
    ]


def test_clear_forgets_the_credentials_of_the_requests_it_forgot() -> None:
    """Clearing the record (``DELETE /_emulator/record``) lets go of every request's headers,
    a client's key among them, as it did before entries shared their shapes."""
    record = RequestRecord()
    secret = b"Key " + os.urandom(16).hex().encode()  # an object only this test holds
    before = sys.getrefcount(secret)
    entry = record.entry("GET", "/fal/queue/a/requests/1/status", b"", [(b"authorization", secret)])
    entry.status = 202
    record.add(entry)
    del entry
    record.clear()
    assert sys.getrefcount(secret) == before


def test_a_shared_record_keeps_no_request_in_this_process_once_written() -> None:
    """A shared record's entries live in the store: once written, this process keeps
    nothing of them (a hostile client's headers, a key), as before shapes were shared."""
    record = RequestRecord(store=MemoryStore())
    secret = b"Key " + os.urandom(16).hex().encode()
    before = sys.getrefcount(secret)
    entry = record.entry("GET", "/fal/queue/a/requests/1/status", b"", [(b"authorization", secret)])
    entry.status = 202
    record.add(entry)
    del entry
    record.close()  # writes what is queued
    assert [e.key for e in record] == [secret.decode()[4:]]
    assert sys.getrefcount(secret) == before


@pytest.mark.parametrize(
    ("shown", "masked"),
    [
        ("Key abcdefgh-1234", "Key ****1234"),
        ("Key my-team secret-part-abcdefgh", "Key ****efgh"),  # a key with a space, whole
        ("Bearer short", "Bearer ****"),
        ("a-bare-credential-9876", "****9876"),  # a query parameter's value
        ("Key", "****"),
    ],
)
def test_a_credential_is_masked_whole_whatever_it_holds(shown: str, masked: str) -> None:
    assert mask(shown) == masked


def test_a_token_is_masked_however_its_name_is_encoded() -> None:
    # Starlette decodes the name, so fal%5Fjwt%5Ftoken authenticated, and was kept whole
    for name in ("fal_jwt_token", "fal%5Fjwt%5Ftoken", "fal%5fjwt_token"):
        assert masked_query(f"a=1&{name}=eyJ.secret-part.sig9") == f"a=1&{name}=****sig9"


def test_a_key_shows_its_last_four_characters_at_most() -> None:
    assert (mask_key("my-team secret-abcd"), mask_key("alice"), mask_key("")) == (
        "****abcd",
        "****",
        "****",
    )


def test_past_a_total_the_record_makes_room_for_the_next_adds(make_record: MakeRecord) -> None:
    """Brought down to 98 % of it, the keys holding the most first: one ranking of the
    keys then serves the next fiftieth of the total's adds, not each one (each add past a
    total ranked them, tripling its cost)."""
    record = make_record(max_entries=100, max_entries_per_key=1000)
    for i in range(3):
        record.add(raw(key="quiet", status=200 + i))
    for i in range(98):
        record.add(raw(key="flood", status=300 + i))
    assert len(record) == 98  # 101 added
    assert [e.status for e in record.filter(key="quiet")] == [200, 201, 202]
    assert [e.status for e in record.filter(key="flood")][0] == 303
