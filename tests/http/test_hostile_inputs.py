"""Requests the second review found answering 5xx: each now a clear 4xx, or handled."""

import base64
import io
import struct
import zlib

import pytest
from PIL import Image
from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, Progression, create_app
from emulator.contracts.sizes import video_shape

SEEDANCE = "/fal/run/fal-ai/bytedance/seedance/v1/pro/fast/image-to-video"


@pytest.fixture
def fal() -> TestClient:
    engine = Engine(EmulatorConfig(progression=Progression.parse("immediate")))
    with TestClient(create_app(engine=engine), headers={"Authorization": "Key k"}) as client:
        yield client


def png_header_only(width: int, height: int) -> bytes:
    chunk = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    ihdr = (
        struct.pack(">I", len(chunk))
        + b"IHDR"
        + chunk
        + struct.pack(">I", zlib.crc32(b"IHDR" + chunk))
    )
    return b"\x89PNG\r\n\x1a\n" + ihdr


@pytest.mark.parametrize(
    "picture", [png_header_only(20000, 20000), png_header_only(64, 64), b"GIF89a..."]
)
def test_pictures_that_do_not_decode_fail_to_load(fal: TestClient, picture: bytes) -> None:
    """Read whole but no picture (a bomb, a bare header, junk): fal's image_load_error,
    not a download's failure."""
    url = "data:image/png;base64," + base64.b64encode(picture).decode()
    response = fal.post(SEEDANCE, json={"prompt": "x", "image_url": url, "duration": "2"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "image_load_error"


def test_a_real_picture_still_works(fal: TestClient) -> None:
    out = io.BytesIO()
    Image.new("RGB", (30, 20)).save(out, "PNG")
    url = "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()
    response = fal.post(
        SEEDANCE, json={"prompt": "x", "image_url": url, "duration": "2", "resolution": "480p"}
    )
    assert response.status_code == 200
    assert fal.get(response.json()["video"]["url"]).status_code == 200


@pytest.mark.parametrize("url", ["http://[", "http://[::1", "http://[zz]/x.png", "http://]"])
def test_input_urls_that_are_not_urls_are_unreachable_inputs(fal: TestClient, url: str) -> None:
    """A newcomer's review: urlsplit's ValueError reached the app as a 500."""
    response = fal.post(SEEDANCE, json={"prompt": "x", "image_url": url, "duration": "2"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "file_download_error"
    with wavespeed_client() as client:
        answer = client.post(
            "/wavespeed/api/v3/kwaivgi/kling-v2.1-i2v-standard",
            json={"prompt": "x", "image": url, "enable_sync_mode": True},
        )
    assert answer.status_code == 200
    assert answer.json()["data"]["status"] == "failed"


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",
        "ftp://example.com/x",
        "not a url",
        "http://localhost:abc/",
        "http://127.0.0.1:8802/a\r\nX-Injected: 1",  # no delivery could be posted to it
        "http://127.0.0.1:8802/a b",
    ],
)
def test_bad_webhook_urls_are_refused_before_a_job_exists(fal: TestClient, url: str) -> None:
    response = fal.post(
        "/fal/queue/fal-ai/bitdance", params={"fal_webhook": url}, json={"prompt": "x"}
    )
    assert response.status_code == 422
    assert fal.get("/_emulator/jobs").json() == []


@pytest.mark.parametrize("file_name", [5, ["a"], {"b": 1}, None])
def test_initiate_takes_any_json_file_name(fal: TestClient, file_name: object) -> None:
    response = fal.post(
        "/fal/rest/storage/upload/initiate", json={"file_name": file_name, "content_type": "x/y"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("content_type", ["image/pngé", "text/plain\r\nX-Evil: 1", 7, "no-slash"])
def test_header_unsafe_content_types_are_replaced(fal: TestClient, content_type: object) -> None:
    ticket = fal.post(
        "/fal/rest/storage/upload/initiate", json={"file_name": "a", "content_type": content_type}
    ).json()
    fal.put(ticket["upload_url"], content=b"x")
    assert fal.get(ticket["file_url"]).headers["content-type"] == "application/octet-stream"


def test_giant_part_numbers_are_404(fal: TestClient) -> None:
    ticket = fal.post("/fal/rest/storage/upload/initiate-multipart", json={"file_name": "a"}).json()
    assert fal.put(ticket["upload_url"] + "/" + "9" * 5000, content=b"x").status_code == 404


@pytest.mark.parametrize("target", ["https://[::1/x", "http://user:pw@[bad/x"])
def test_malformed_proxy_targets_are_400(fal: TestClient, target: str) -> None:
    response = fal.post("/fal/proxy", headers={"x-fal-target-url": target}, json={})
    assert response.status_code == 400


def test_wavespeed_binary_upload_with_a_bad_length() -> None:
    with TestClient(create_app(), headers={"Authorization": "Bearer k"}) as client:
        response = client.post(
            "/wavespeed/api/v3/media/upload/binary",
            content=b"x",
            headers={"Content-Type": "multipart/form-data; boundary=b", "Content-Length": "abc"},
        )
    assert 400 <= response.status_code < 500


def test_video_sides_are_even_and_fps_at_least_one() -> None:
    assert video_shape({"resolution": "721p", "aspect_ratio": "9:16"}, {"fps": 0.5}, None) == (
        720,
        1280,
        5.0,
        1,
    )


def wavespeed_client() -> TestClient:
    engine = Engine(EmulatorConfig(progression=Progression.parse("immediate")))
    return TestClient(create_app(engine=engine), headers={"Authorization": "Bearer k"})


def test_undeclared_counts_and_sizes_change_nothing() -> None:
    """Issue 14: an undeclared num_images or fps used to be honoured without a bound."""
    hostile = {"prompt": "x", "num_images": 10**9, "fps": 10**4, "width": 5000, "height": -3}
    with wavespeed_client() as client:
        answer = client.post(
            "/wavespeed/api/v3/wavespeed-ai/bitdance-14b/text-to-image",
            json={**hostile, "size": "512*512", "enable_sync_mode": True},
        )
        data = answer.json()["data"]
        assert (answer.status_code, data["status"], len(data["outputs"])) == (200, "completed", 1)
        picture = Image.open(io.BytesIO(client.get(data["outputs"][0]).content))
        assert picture.size == (512, 512)


def test_sizes_beyond_the_emulators_are_a_validation_error_before_any_render(
    fal: TestClient,
) -> None:
    answer = fal.post(
        "/fal/run/fal-ai/bitdance",
        json={"prompt": "x", "image_size": {"width": 9000, "height": 9000}},
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "image_size"]


def test_a_number_too_large_for_a_float_is_refused(fal: TestClient) -> None:
    answer = fal.post(
        "/fal/run/fal-ai/bitdance",
        content=b'{"prompt": "x", "extra": 1e999}',
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 422 and "out of range" in str(answer.json())


@pytest.mark.parametrize("digits", [5000, 4301])
def test_a_number_with_too_many_digits_is_refused_in_the_clients_terms(
    fal: TestClient, digits: int
) -> None:
    answer = fal.post(
        "/fal/run/fal-ai/bitdance",
        content=b'{"prompt": "x", "extra": -' + b"9" * digits + b"}",
        headers={"Content-Type": "application/json"},
    )
    text = str(answer.json())
    assert answer.status_code == 422 and f"{digits} digits is out of range" in text
    assert "sys." not in text  # not Python's advice to its own programmers


@pytest.mark.parametrize(
    ("method", "path", "allow", "envelope"),
    [
        ("DELETE", "/wavespeed/api/v3/predictions/abc/result", "GET, HEAD", "message"),
        ("GET", "/wavespeed/api/v3/wavespeed-ai/bitdance-14b/text-to-image", "POST", "message"),
        ("DELETE", "/fal/run/fal-ai/bitdance", "GET, POST", "detail"),
        ("PATCH", "/fal/queue/fal-ai/bitdance/requests/x/status", "GET", "detail"),
        ("POST", "/fal/cdn/files/emulator/0123.jpg", "GET, HEAD", "detail"),
    ],
)
def test_a_405_says_what_is_allowed_in_the_providers_format(
    method: str, path: str, allow: str, envelope: str
) -> None:
    with TestClient(create_app(), headers={"Authorization": "Bearer k"}) as client:
        answer = client.request(method, path)
    assert (answer.status_code, answer.headers["allow"]) == (405, allow)
    assert envelope in answer.json()


def test_unknown_paths_answer_in_the_providers_envelope() -> None:
    with TestClient(create_app()) as client:
        wavespeed = client.get("/wavespeed/nowhere")
        fal = client.get("/fal/nowhere")
    assert wavespeed.json() == {"code": 404, "message": "Not Found", "data": None}
    assert fal.json() == {"detail": "Not Found"}


def test_an_unreadable_input_of_50_kb_is_not_repeated_whole_in_its_error(fal: TestClient) -> None:
    """An audit: a 50 KB base64 picture that was no picture came back whole, a 66 KB body."""
    junk = base64.b64encode(bytes(range(256)) * 150).decode()
    response = fal.post(
        SEEDANCE,
        json={"prompt": "x", "image_url": "data:image/png;base64," + junk, "duration": "2"},
    )
    assert response.status_code == 422 and len(response.content) < 2000
    with wavespeed_client() as client:
        answer = client.post(
            "/wavespeed/api/v3/kwaivgi/kling-v2.1-i2v-standard",
            json={"prompt": "x", "image": junk, "enable_sync_mode": True},
        )
    assert answer.json()["data"]["status"] == "failed" and len(answer.content) < 2000
