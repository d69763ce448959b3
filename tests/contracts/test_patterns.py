"""A short string a pattern matches, or None where the walk of its tree gives up."""

from __future__ import annotations

import pytest

from emulator.contracts.patterns import shortest_match


@pytest.mark.parametrize(
    ("pattern", "written"),
    [
        ("", ""),
        ("^req_[0-9a-f]{8}$", "req_00000000"),
        (r"^v\d+\.\d+(-beta)?$", "v0.0"),
        ("^(png|jpeg)$", "png"),
        (r"^[^a-z0]+$", "A"),  # a negated class: an ordinary character outside it
        (r"^\S+@\S+\.\w{2,}$", "a@a.aa"),
        ("^(?:ab)*?c$", "c"),
        ("(?i)^[^a-z]$", "0"),  # case folded: "A" would be in the class
        ("x[.]y", "x.y"),
        ("^a{1000}$", "a" * 1000),  # RE2's longest counted repeat
    ],
)
def test_a_pattern_gives_a_short_string_it_matches(pattern: str, written: str) -> None:
    assert shortest_match(pattern) == written


@pytest.mark.parametrize(
    "pattern",
    # the last three: longer than the 1 KiB it writes (nested repeats wrote gigabytes)
    ["^(?=a)b", r"(a)\1", "[", "^a$b", "^a{1025}$", "^(?:a{1000}){1000}$", "a{1000}b{1000}"]
    # classes that hold no character (the walk's StopIteration escaped as a RuntimeError)
    + [r"^[^\s\S]$", r"x[^\W\w]", "[^\x00-\U0010ffff]"],
)
def test_what_the_walk_does_not_follow_or_cannot_match_gives_none(pattern: str) -> None:
    assert shortest_match(pattern) is None
