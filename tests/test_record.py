from emulator.core.record import RequestRecord


def raw(
    method: str = "GET",
    path: str = "/fal/queue/a/requests/1/status",
    status: int = 202,
    key: str = "k",
):
    headers = [(b"host", b"queue.fal.run"), (b"authorization", f"Key {key}".encode())]
    return (method, headers, path, b"logs=1", status, 10.0, 10.5)


def test_filters_combine() -> None:
    record = RequestRecord()
    record.add_raw(raw())
    record.add_raw(raw("POST", "/fal/queue/a", status=200))
    record.add_raw(raw(path="/wavespeed/api/v3/predictions/x/result", key="other", status=200))
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


def test_the_record_is_bounded() -> None:
    record = RequestRecord(maxlen=2)
    for i in range(3):
        record.add_raw(raw(status=200 + i))
    assert [e.status for e in record] == [201, 202]
