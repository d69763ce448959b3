"""WaveSpeed's upload flows request by request, and what they refuse."""

import asyncio
import json

import pytest
from starlette.testclient import TestClient

from emulator import Engine, create_app
from emulator.http import bodies, deadlines
from tests.benchmarks.suite.asgi_call import call

TICKETS = "/wavespeed/api/v3/media/uploads"
BINARY = "/wavespeed/api/v3/media/upload/binary"
TRUNCATED_FORM = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nab'


def test_ticket_then_put(client: TestClient) -> None:
    body = client.post(
        TICKETS, json={"filename": "t.png", "size": 3, "content_type": "image/png"}
    ).json()
    ticket = body["data"]
    assert (body["code"], ticket["type"], ticket["filename"], ticket["size"]) == (
        200,
        "image",
        "t.png",
        3,
    )
    assert ticket["upload"] == {
        "method": "PUT",
        "url": ticket["download_url"],
        "headers": {"Content-Type": "image/png"},
    }
    put = client.put(
        ticket["upload"]["url"],
        content=b"png",
        headers={"Authorization": "", **ticket["upload"]["headers"]},
    )
    assert put.status_code == 200
    assert client.get(ticket["download_url"]).content == b"png"


def test_a_put_of_another_size_than_its_ticket_declared_is_refused(client: TestClient) -> None:
    ticket = client.post(TICKETS, json={"filename": "t.png", "size": 5}).json()["data"]
    put = client.put(ticket["upload"]["url"], content=b"20 bytes, not five..")
    assert put.status_code == 400
    assert put.json()["message"] == "The upload is 20 bytes; its ticket declared 5"
    # a refused PUT leaves the ticket, as a presigned URL stays good: the retry is kept
    assert client.put(ticket["upload"]["url"], content=b"five!").status_code == 200
    assert client.put(ticket["upload"]["url"], content=b"five!").status_code == 404  # spent
    undeclared = client.post(TICKETS, json={"filename": "t.png"}).json()["data"]
    assert client.put(undeclared["upload"]["url"], content=b"any").status_code == 200


def test_a_put_of_another_type_than_its_ticket_declared_is_refused(client: TestClient) -> None:
    """The ticket hands its caller the declared type's header to send: the URL is signed
    for it (a guess), and the file is served as that type, never as the PUT's."""
    asked = {"filename": "t.png", "content_type": "image/png"}
    ticket = client.post(TICKETS, json=asked).json()["data"]
    url = ticket["upload"]["url"]
    put = client.put(url, content=b"<b>hi</b>", headers={"Content-Type": "text/html"})
    assert put.status_code == 403
    assert put.json()["message"] == "The upload is text/html; its ticket declared image/png"
    assert client.put(url, content=b"png", headers={"Content-Type": "IMAGE/PNG"}).is_success
    assert client.get(ticket["download_url"]).headers["content-type"] == "image/png"
    untyped = client.post(TICKETS, json={"filename": "t.png"}).json()["data"]["upload"]["url"]
    assert client.put(untyped, content=b"png").is_success  # a PUT naming no type: the ticket's


def test_legacy_binary_form(client: TestClient) -> None:
    body = client.post(BINARY, files={"file": ("../../x.jpg", b"jpeg", "image/jpeg")}).json()
    assert body["data"]["filename"] == "x.jpg" and body["data"]["type"] == "image"
    assert client.get(body["data"]["download_url"]).content == b"jpeg"


@pytest.mark.parametrize(
    ("path", "kwargs", "status"),
    [
        (TICKETS, {"json": {"size": 1}}, 400),
        (TICKETS, {"json": {"filename": "a", "size": -1}}, 400),
        (TICKETS, {"json": {"filename": "a", "size": 10**12}}, 413),
        (BINARY, {"files": {"other": ("a", b"x")}}, 400),
        (
            BINARY,
            {
                "content": TRUNCATED_FORM,
                "headers": {"Content-Type": "multipart/form-data; boundary=b"},
            },
            400,
        ),
        (BINARY, {"content": b"{}", "headers": {"Content-Type": "application/json"}}, 400),
        ("/wavespeed/api/v3/media/anything", {"files": {"file": ("a", b"x")}}, 404),
    ],
)
def test_bad_uploads_are_4xx_in_the_envelope(
    client: TestClient, path: str, kwargs: dict, status: int
) -> None:
    response = client.post(path, **kwargs)
    assert response.status_code == status and response.json()["code"] == status


def test_a_form_cut_short_is_named_so(client: TestClient) -> None:
    headers = {"Content-Type": 'multipart/form-data; boundary="b"'}
    answer = client.post(BINARY, content=TRUNCATED_FORM, headers=headers)
    assert answer.status_code == 400
    assert "ends before its boundary" in answer.json()["message"]
    whole = TRUNCATED_FORM + b"\r\n--b--\r\n"
    assert client.post(BINARY, content=whole, headers=headers).status_code == 200


def test_uploads_need_a_key_but_the_put_does_not(engine: Engine) -> None:
    with TestClient(create_app(engine=engine)) as anonymous:
        assert anonymous.post(TICKETS, json={"filename": "a", "size": 1}).status_code == 401
        assert (
            anonymous.put(
                "/wavespeed/cdn/files/uploads/" + "0" * 24 + "/a", content=b"x"
            ).status_code
            == 404
        )


def test_a_chunked_form_is_bounded_as_a_whole(engine: Engine) -> None:
    """The multipart parser bounds each part: a chunked body of many large fields beside
    a small file was taken whole (a newcomer's review)."""
    engine.storage.max_file_bytes = 10
    form = (
        b'--b\r\nContent-Disposition: form-data; name="pad"\r\n\r\n'
        + b"x" * 100_000
        + b'\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nab'
        + b"\r\n--b--\r\n"
    )
    with TestClient(create_app(engine=engine), headers={"Authorization": "Bearer k1"}) as client:
        response = client.post(
            BINARY,
            content=iter([form[:50_000], form[50_000:]]),  # no Content-Length: chunked
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )
    assert response.status_code == 413 and response.json()["code"] == 413


def test_a_form_that_stops_arriving_is_a_408(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deadlines, "TICK", 0.01)
    monkeypatch.setattr(bodies, "BODY_SECONDS", 0.05)
    head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n'
    headers = {"Authorization": "Bearer k1", "Content-Type": "multipart/form-data; boundary=b"}
    stalled = call(
        create_app(engine=engine), BINARY, headers, method="POST", body=head, complete=False
    )
    status, body = asyncio.run(asyncio.wait_for(stalled, 5))
    assert status == 408 and json.loads(body)["code"] == 408
