"""What a stored file is, and what of a client's name and type the storage keeps."""

import pytest

from emulator.core.stored_files import safe_content_type, safe_name, same_type


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("a b?.png", "a_b_.png"),
        ("...", "upload.bin"),
        (None, "upload.bin"),
        ("x" * 300, "x" * 128),
        ("/", "upload.bin"),
    ],
)
def test_names_are_made_harmless(name: str | None, expected: str) -> None:
    assert safe_name(name) == expected


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("image/png", "image/png"),
        ("image/png; charset=x", "image/png"),
        ("text/html\r\nx-injected: 1", "application/octet-stream"),
        ("not a type", "application/octet-stream"),
        (None, "application/octet-stream"),
    ],
)
def test_a_content_type_is_kept_if_plain_and_safe_as_a_header(given: object, kept: str) -> None:
    assert safe_content_type(given) == kept


def test_types_are_the_same_as_kept_whatever_their_case_and_parameters() -> None:
    assert same_type("IMAGE/PNG; q=1") == same_type("image/png") == "image/png"
    assert same_type("image/png") != same_type("text/html")
