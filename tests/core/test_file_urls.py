import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.core.file_urls import (
    UploadPath,
    file_url,
    find_in_url,
    media_id_of,
    media_url,
    parse_upload_path,
)
from emulator.core.stored_files import safe_name

FILE_ID = st.text("0123456789abcdef", min_size=24, max_size=24)
MEDIA_ID = st.text("0123456789abcdef", min_size=32, max_size=32)
CDN = st.sampled_from(["https://v3.fal.media", "http://127.0.0.1:8000/fal-cdn", ""])
NAMES = st.text(min_size=1, max_size=40).map(safe_name)  # as every upload's name is made


@given(CDN, FILE_ID, NAMES)
def test_an_upload_url_names_its_file(cdn: str, file_id: str, name: str) -> None:
    url = file_url(cdn, file_id, name)
    path = url[len(cdn) :]
    assert parse_upload_path(path) == UploadPath(file_id, name)
    assert find_in_url(url) == ("upload", file_id, name)
    assert media_id_of(path) is None


@given(CDN, MEDIA_ID, st.sampled_from(["jpeg", "png", "webp", "mp4", "wav", "glb", "txt"]))
def test_a_media_url_names_its_medium(cdn: str, media_id: str, extension: str) -> None:
    url = media_url(cdn, media_id, extension)
    path = url[len(cdn) :]
    assert media_id_of(path) == media_id
    assert find_in_url(url) == ("media", media_id, f"{media_id}.{extension}")
    assert parse_upload_path(path) is None


FILE, PARTS = "0123456789abcdef01234567", "89abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("path", "parsed"),
    [
        (f"/files/uploads/{FILE}/a.png", UploadPath(FILE, "a.png")),
        (f"/files/uploads/{FILE}/a.png/", UploadPath(FILE, "a.png")),
        (
            f"/files/uploads/{FILE}/a.png/multipart/{PARTS}/3",
            UploadPath(FILE, "a.png", PARTS, "3"),
        ),
        (
            f"/files/uploads/{FILE}/a.png/multipart/{PARTS}/complete",
            UploadPath(FILE, "a.png", PARTS, "complete"),
        ),
        (f"/files/uploads/{FILE}/a.png/multipart/{PARTS}/123456", None),  # five digits at most
        (f"/files/uploads/{FILE[:-1]}/a.png", None),
        (f"/files/uploads/{FILE.upper()}/a.png", None),
        (f"/files/uploads/{FILE}/a.png/more", None),
        (f"/files/uploads/{FILE}/", None),
    ],
)
def test_upload_paths_parse_exactly(path: str, parsed: UploadPath | None) -> None:
    assert parse_upload_path(path) == parsed
