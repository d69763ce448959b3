"""The CDN as browsers and download tools use it: byte ranges, HEAD, validators and
conditional requests, file names; media faults still apply."""

from __future__ import annotations

import subprocess
from email.utils import formatdate

import httpx
import pytest
from starlette.testclient import TestClient

from emulator.core.faults import Fault
from emulator.http.cdn import byte_range, disposition
from emulator.server import BackgroundServer


def image_path(client: TestClient) -> str:
    """The CDN path of a freshly generated fal image."""
    submitted = client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "a cat"}).json()
    for _ in range(10):
        if client.get(submitted["status_url"]).json()["status"] == "COMPLETED":
            break
    url = client.get(submitted["response_url"]).json()["images"][0]["url"]
    return httpx.URL(url).path


@pytest.fixture
def path(client: TestClient) -> str:
    return image_path(client)


@pytest.fixture
def whole(client: TestClient, path: str) -> bytes:
    return client.get(path).content


def test_a_whole_download_declares_ranges_and_validators(client, path, whole) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"].startswith('"')
    assert response.headers["last-modified"].endswith("GMT")
    name = path.rsplit("/", 1)[1]
    assert response.headers["content-disposition"] == (
        f"inline; filename=\"{name}\"; filename*=UTF-8''{name}"
    )


@pytest.mark.parametrize(
    ("asked", "span"),
    [("bytes=0-99", (0, 99)), ("bytes=100-", (100, None)), ("bytes=-50", (-50, None))],
)
def test_a_range_is_answered_206_with_that_slice(client, path, whole, asked, span) -> None:
    response = client.get(path, headers={"Range": asked})
    first, last = span
    expected = whole[first : None if last is None else last + 1]
    start = first if first >= 0 else len(whole) + first
    assert response.status_code == 206
    assert response.content == expected
    assert response.headers["content-range"] == (
        f"bytes {start}-{start + len(expected) - 1}/{len(whole)}"
    )
    assert response.headers["content-length"] == str(len(expected))


def test_a_range_past_the_end_is_unsatisfiable(client, path, whole) -> None:
    response = client.get(path, headers={"Range": f"bytes={len(whole)}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(whole)}"


@pytest.mark.parametrize("asked", ["items=0-1", "bytes=5-2", "bytes=a-b", "bytes=0-1,4-5"])
def test_ranges_the_server_does_not_serve_get_the_whole_file(client, path, whole, asked) -> None:
    response = client.get(path, headers={"Range": asked})
    assert (response.status_code, response.content) == (200, whole)


def test_head_answers_the_same_headers_without_a_body(client, path, whole) -> None:
    got, head = client.get(path), client.head(path)
    assert head.status_code == 200 and head.content == b""
    for name in ("content-length", "content-type", "etag", "last-modified", "accept-ranges"):
        assert head.headers[name] == got.headers[name]
    ranged = client.head(path, headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 206 and ranged.headers["content-length"] == "10"


def test_conditional_gets_are_answered_304(client, path) -> None:
    first = client.get(path)
    tag, modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get(path, headers={"If-None-Match": tag}).status_code == 304
    assert client.get(path, headers={"If-None-Match": f'"other", {tag}'}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    earlier = formatdate(0, usegmt=True)
    assert client.get(path, headers={"If-Modified-Since": earlier}).status_code == 200
    assert client.get(path, headers={"If-Modified-Since": "yesterday"}).status_code == 200


def test_if_range_serves_the_range_only_for_the_same_file(client, path, whole) -> None:
    tag = client.get(path).headers["etag"]
    same = client.get(path, headers={"Range": "bytes=0-9", "If-Range": tag})
    other = client.get(path, headers={"Range": "bytes=0-9", "If-Range": '"old"'})
    assert (same.status_code, len(same.content)) == (206, 10)
    assert (other.status_code, other.content) == (200, whole)


@pytest.mark.parametrize("mangled", [".jpgx", ".png", ".mp4", ".jpg/extra", ""])
def test_a_file_is_served_at_its_own_url_alone(client, path, mangled) -> None:
    """A client that mangles a URL is caught, as by a real CDN's 404."""
    assert path.endswith(".jpg") and client.get(path).status_code == 200
    assert client.get(path.removesuffix(".jpg") + mangled).status_code == 404


def test_an_uploaded_file_is_named_by_its_upload(client) -> None:
    token = client.post("/fal/rest/storage/auth/token?storage_type=fal-cdn-v3", json={})
    headers = {
        "Authorization": f"Bearer {token.json()['token']}",
        "Content-Type": "text/plain",
        "X-Fal-File-Name": "notes v2.txt",
    }
    url = client.post("/fal/cdn/files/upload", content=b"0123456789", headers=headers).json()[
        "access_url"
    ]
    response = client.get(url, headers={"Range": "bytes=2-4"})
    assert (response.status_code, response.content) == (206, b"234")
    assert response.headers["content-disposition"] == (
        "inline; filename=\"notes_v2.txt\"; filename*=UTF-8''notes_v2.txt"
    )


def test_served_files_are_inert_on_the_emulators_origin(client, path) -> None:
    """An uploaded page would otherwise run beside the dashboard, on its origin."""
    token = client.post("/fal/rest/storage/auth/token?storage_type=fal-cdn-v3", json={})
    headers = {"Authorization": f"Bearer {token.json()['token']}", "Content-Type": "text/html"}
    page = client.post("/fal/cdn/files/upload", content=b"<script></script>", headers=headers)
    for url in (page.json()["access_url"], path):
        served = client.get(url).headers
        assert served["content-security-policy"] == "sandbox"
        assert served["x-content-type-options"] == "nosniff"


def test_disposition_quotes_what_it_cannot_write_plainly() -> None:
    assert disposition('a"b\\ü.png') == (
        "inline; filename=\"a_b__.png\"; filename*=UTF-8''a%22b%5C%C3%BC.png"
    )


def test_byte_range_edges() -> None:
    assert byte_range("bytes=0-0", 1) == (0, 0)
    assert byte_range("bytes=0-999", 10) == (0, 9)
    assert byte_range("bytes=-999", 10) == (0, 9)
    assert byte_range("bytes=-0", 10) == ()
    assert byte_range("bytes=0-", 0) == ()
    assert byte_range("bytes=", 10) is None
    assert byte_range("bytes=-", 10) is None


def test_media_faults_still_apply_to_ranges(client, engine, path) -> None:
    engine.faults.add(Fault("media_missing", times=1))
    assert client.get(path, headers={"Range": "bytes=0-9"}).status_code == 404
    assert client.get(path, headers={"Range": "bytes=0-9"}).status_code == 206


def test_a_truncated_range_declares_its_length_and_stops_short(serve) -> None:
    server = serve()
    with httpx.Client(base_url=server.url, headers={"Authorization": "Key k"}) as http:
        path = image_path(http)  # type: ignore[arg-type]
        server.engine.faults.add(Fault("media_truncated", times=1))
        with pytest.raises(httpx.RemoteProtocolError):
            http.get(path, headers={"Range": "bytes=0-999"})
        assert len(http.get(path, headers={"Range": "bytes=0-999"}).content) == 1000


def test_real_clients_over_a_socket(server: BackgroundServer) -> None:
    with httpx.Client(base_url=server.url, headers={"Authorization": "Key k"}) as http:
        path = image_path(http)  # type: ignore[arg-type]
        whole = http.get(path).content
        part = http.get(path, headers={"Range": "bytes=10-19"})
    assert (part.status_code, part.content) == (206, whole[10:20])
    done = subprocess.run(
        ["curl", "-sS", "-r", "0-99", "-D", "-", "-o", "/dev/null", server.url + path],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    head = done.stdout.lower()
    assert head.startswith("http/1.1 206")
    assert f"content-range: bytes 0-99/{len(whole)}" in head


@pytest.mark.parametrize(
    ("inline", "hops"), [(False, 0), (True, 1)], ids=["urls of known size", "inline media"]
)
def test_an_output_is_made_on_the_loop_unless_it_would_render(
    monkeypatch: pytest.MonkeyPatch, inline: bool, hops: int
) -> None:
    import asyncio

    from emulator import EmulatorConfig, Engine, Progression
    from emulator.http import cdn
    from emulator.media.links import data_uri_linker, url_linker

    engine = Engine(EmulatorConfig(progression=Progression.parse("immediate")))
    job = engine.submit(engine.contracts.get("fal", "fal-ai/bitdance"), {"prompt": "x"}, "k")
    link = data_uri_linker(engine.media) if inline else url_linker(engine.media, "http://cdn")
    threaded = []
    real = cdn.run_in_threadpool

    async def counted(*args: object) -> object:
        threaded.append(args)
        return await real(*args)

    monkeypatch.setattr(cdn, "run_in_threadpool", counted)
    output = asyncio.run(cdn.run_linked(lambda linker: engine.outcome(job, linker), link))
    assert len(threaded) == hops
    assert output == engine.outcome(job, link)  # the same output, kept, either way


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-" + "9" * 5000, (0, 99)),  # an end past any file: to its end
        ("bytes=" + "9" * 5000 + "-", ()),  # a start past it: nothing to send (416)
        ("bytes=-" + "9" * 5000, (0, 99)),  # the last "more than all" bytes: all of them
    ],
)
def test_a_range_of_thousands_of_digits_is_read_not_a_500(header: str, expected: tuple) -> None:
    """Python reads no integer past 4,300 digits: int() raised, and the download was a 500."""
    assert byte_range(header, 100) == expected
