"""fal's storage flows request by request, and what they refuse."""

import base64
import functools
from dataclasses import replace

import httpx
import pytest
from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, create_app
from tests.held_calls import answered_while_held


@pytest.fixture
def cdn_token(client: TestClient) -> dict:
    return {
        "Authorization": "Bearer "
        + client.post("/fal/rest/storage/auth/token", json={}).json()["token"]
    }


def test_token_then_upload_then_download(client: TestClient) -> None:
    token = client.post("/fal/rest/storage/auth/token?storage_type=fal-cdn-v3", json={}).json()
    assert token["token_type"] == "Bearer" and token["base_url"] == "http://testserver/fal/cdn"
    assert "T" in token["expires_at"]
    headers = {
        "Authorization": f"Bearer {token['token']}",
        "Content-Type": "image/png",
        "X-Fal-File-Name": "../a b.png",
    }
    url = client.post("/fal/cdn/files/upload", content=b"\x89PNG...", headers=headers).json()[
        "access_url"
    ]
    assert url.endswith("/a_b.png")
    download = client.get(url)
    assert (download.content, download.headers["content-type"]) == (b"\x89PNG...", "image/png")


def test_uploads_need_a_token(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer made-up"}, {"Authorization": "Key k1"}):
        assert (
            client.post("/fal/cdn/files/upload", content=b"x", headers=headers).status_code == 401
        )
    assert (
        client.post("/fal/rest/storage/auth/token", headers={"Authorization": ""}).status_code
        == 401
    )


def test_multipart_with_etags(client: TestClient, cdn_token: dict) -> None:
    started = client.post(
        "/fal/cdn/files/upload/multipart", headers={**cdn_token, "X-Fal-File-Name": "big.bin"}
    ).json()
    base = f"{started['access_url']}/multipart/{started['uploadId']}"
    parts = []
    for number, data in ((1, b"hello "), (2, b"world")):
        response = client.put(f"{base}/{number}", content=data, headers=cdn_token)
        parts.append({"partNumber": number, "etag": response.headers["etag"]})
    done = client.post(f"{base}/complete", json={"parts": parts}, headers=cdn_token).json()
    assert client.get(done["access_url"]).content == b"hello world"


@pytest.mark.parametrize(
    "body", [{"parts": [{"partNumber": 1, "etag": '"nope"'}]}, {"parts": []}, {"parts": "x"}, [1]]
)
def test_a_bad_completion_is_a_4xx(client: TestClient, cdn_token: dict, body: object) -> None:
    started = client.post("/fal/cdn/files/upload/multipart", headers=cdn_token).json()
    base = f"{started['access_url']}/multipart/{started['uploadId']}"
    client.put(f"{base}/1", content=b"x", headers=cdn_token)
    response = client.post(f"{base}/complete", json=body, headers=cdn_token)
    assert 400 <= response.status_code < 500 and "detail" in response.json()


def test_initiate_then_put_without_credentials(client: TestClient) -> None:
    ticket = client.post(
        "/fal/rest/storage/upload/initiate?storage_type=fal-cdn-v3",
        json={"file_name": "hello.txt", "content_type": "text/plain"},
    ).json()
    assert (
        client.put(ticket["upload_url"], content=b"hi", headers={"Authorization": ""}).status_code
        == 200
    )
    assert client.get(ticket["file_url"]).content == b"hi"
    assert client.put(ticket["upload_url"], content=b"again").status_code == 404  # used once


def test_unknown_and_over_limit_uploads(engine: Engine) -> None:
    engine.config = replace(engine.config, max_upload_bytes=10)
    engine.storage.max_file_bytes = 10
    with TestClient(create_app(engine=engine), headers={"Authorization": "Key k"}) as client:
        token = {
            "Authorization": "Bearer " + client.post("/fal/rest/storage/auth/token").json()["token"]
        }
        assert (
            client.post("/fal/cdn/files/upload", content=b"x" * 11, headers=token).status_code
            == 413
        )
        unknown = "/fal/cdn/files/uploads/" + "0" * 24 + "/x.bin"
        assert client.put(unknown, content=b"x").status_code == 404
        assert (
            client.put(
                unknown + "/multipart/" + "1" * 24 + "/1", content=b"x", headers=token
            ).status_code
            == 404
        )
        assert client.get("/fal/cdn/files/uploads/../../etc/passwd").status_code == 404


def test_js_multipart_needs_no_credentials(client: TestClient) -> None:
    ticket = client.post(
        "/fal/rest/storage/upload/initiate-multipart?storage_type=fal-cdn-v3",
        json={"file_name": "big.bin", "content_type": "application/octet-stream"},
    ).json()
    parts = [
        client.put(
            f"{ticket['upload_url']}/{n}", content=data, headers={"Authorization": ""}
        ).json()
        for n, data in ((1, b"ab"), (2, b"cd"))
    ]
    assert [p["partNumber"] for p in parts] == [1, 2]
    done = client.post(
        f"{ticket['upload_url']}/complete", json={"parts": parts}, headers={"Authorization": ""}
    )
    assert done.status_code == 200
    assert client.get(ticket["file_url"]).content == b"abcd"


def test_a_kept_token_uploads_in_the_next_emulation(tmp_path) -> None:
    """fal_client keeps its CDN token for the token's hour, across tests: the next
    emulation's CDN takes it, and the upload keeps its name (no fallback)."""
    import fal_client

    from emulator import emulate

    picture = tmp_path / "red.png"
    picture.write_bytes(b"\x89PNG not really")
    client = fal_client.SyncClient(key="uploader")
    for _ in range(2):
        with emulate() as emulation:
            assert client.upload_file(picture).endswith("/red.png")
            statuses = [request.status for request in emulation.requests]
            assert statuses and all(status == 200 for status in statuses), statuses


def test_a_token_is_refused_for_a_key_the_emulator_does_not_accept(engine: Engine) -> None:
    with TestClient(create_app(engine=engine), headers={"Authorization": "Key gone"}) as client:
        token = client.post("/fal/rest/storage/auth/token", json={}).json()["token"]
        engine.config = replace(engine.config, api_keys=frozenset({"other"}))
        refused = client.post(
            "/fal/cdn/files/upload", content=b"x", headers={"Authorization": f"Bearer {token}"}
        )
    assert refused.status_code == 401


def test_an_upload_holds_no_other_request(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """An upload writes a file, perhaps a large one to the shared folder, and gives back
    what a store error left: off the event loop, where a status poll meanwhile is answered."""

    async def upload(http: httpx.AsyncClient) -> httpx.Response:
        key = {"Authorization": "Key k1"}
        answer = await http.post("/fal/rest/storage/auth/token", json={}, headers=key)
        headers = {"Authorization": f"Bearer {answer.json()['token']}"}
        return await http.post("/fal/cdn/files/upload", content=b"x", headers=headers)

    app = create_app(engine=engine)
    held = answered_while_held(app, monkeypatch, engine.storage, "put", upload, 2)
    # the upload and the health check answered, the health check while the write was held
    assert held == (200, 200, True)


def test_a_token_does_not_reveal_the_key_it_was_issued_to(engine: Engine) -> None:
    """A token travels where the key does not (a browser, a log): its claims are sealed,
    and a token changed by one character is refused."""
    engine.config = replace(engine.config, api_keys={"sekrit-key-of-mine"})
    with TestClient(create_app(engine=engine)) as client:
        key = {"Authorization": "Key sekrit-key-of-mine"}
        token = client.post("/fal/rest/storage/auth/token", json={}, headers=key).json()["token"]
        decoded = b"".join(
            base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)) for part in token.split(".")
        )
        assert b"sekrit" not in decoded and "sekrit" not in token
        upload = functools.partial(client.post, "/fal/cdn/files/upload", content=b"x")
        assert upload(headers={"Authorization": f"Bearer {token}"}).status_code == 200
        changed = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
        assert upload(headers={"Authorization": f"Bearer {changed}"}).status_code == 401


def test_a_token_on_shared_state_is_sealed_by_no_seed(tmp_path) -> None:
    """On shared state, every worker accepts every token, so they share its key: a random
    one kept in the store, not the seed's, which anyone who knows the seed could derive."""
    import hashlib

    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    config = EmulatorConfig(seed=42, state=f"sqlite://{tmp_path / 'state.db'}")
    one, other = Engine(config), Engine(config)
    try:
        key = {"Authorization": "Key someones-real-key"}
        with TestClient(create_app(engine=one)) as client:
            answer = client.post("/fal/rest/storage/auth/token", json={}, headers=key)
            token = answer.json()["token"]
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        derived = hashlib.sha256(one.secret("fal-cdn-token")).digest()
        with pytest.raises(InvalidTag):
            AESGCM(derived).decrypt(raw[:12], raw[12:], None)
        with TestClient(create_app(engine=other)) as client:  # another worker
            bearer = {"Authorization": f"Bearer {token}"}
            assert client.post("/fal/cdn/files/upload", content=b"x", headers=bearer).is_success
    finally:
        one.close()
        other.close()
