"""Each format's sample passes its check; the plain checks, where jsonschema's extras are
missing, refuse what their formats refuse."""

from __future__ import annotations

import pytest

from emulator.contracts.formats import _FALLBACKS, FORMAT_SAMPLES, format_checker


@pytest.mark.parametrize(("name", "sample"), FORMAT_SAMPLES.items())
def test_each_sample_is_of_its_format(name: str, sample: str) -> None:
    assert format_checker().conforms(sample, name)
    if name in _FALLBACKS:  # whether or not jsonschema's own check stands in for it
        assert _FALLBACKS[name](sample)


@pytest.mark.parametrize(
    ("name", "value", "conforms"),
    [
        ("date-time", "2024-02-29T23:59:59.5+01:00", True),
        ("date-time", "2024-02-30T00:00:00Z", False),  # no such day
        ("date-time", "2024-01-01T00:00:00", False),  # no offset
        ("date-time", "", False),
        ("time", "12:30:00Z", True),
        ("time", "12:30", False),
        ("uri", "data:image/png;base64,AAAA", True),
        ("uri", "/relative/path", False),
        ("uri", "https://example.com/a b", False),
    ],
)
def test_the_plain_checks(name: str, value: str, conforms: bool) -> None:
    assert _FALLBACKS[name](value) is conforms
