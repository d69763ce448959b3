"""A contract's patterns matched in linear time (RE2), by every keyword that matches one."""

from __future__ import annotations

import pytest

from emulator.contracts.matching import fullmatches, pattern_problem, searches
from emulator.contracts.rules import contract_validator

#: thirty-odd ``a``s and a ``!``: Python's ``re`` tries 2**34 ways of ``^(a+)+$`` on it
BOMB = "^(a+)+$"
BOMBING = "a" * 34 + "!"


def test_a_backtracking_pattern_answers_at_once() -> None:
    assert not searches(BOMB, BOMBING)
    assert not searches(BOMB, "a" * 100_000 + "!")
    assert searches(BOMB, "a" * 100_000)


def test_a_pattern_is_searched_and_its_dollar_is_the_end_of_the_text() -> None:
    # as fal's Rust regex (and ECMA-262) reads it; Python's $ also matched before a final \n
    assert searches("[0-9]+", "take 25")
    assert not searches("^[a-z]+$", "abc\n")
    assert fullmatches("[a-z]+", "abc") and not fullmatches("[a-z]+", "abc1")


def test_a_lone_surrogate_in_the_text_is_matched_not_raised_on() -> None:
    assert searches("^.$", "\ud800") and not searches("^[a-z]$", "\ud800")


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ("^(?=a)b", "(?="),
        (r"(a)\1", r"\1"),
        (r"a\Z", r"\Z"),
        ("([a-z", "missing ]"),
        # RE2 quotes a lone surrogate's bytes, no UTF-8: a UnicodeDecodeError's traceback
        ("\\\ud800", r"invalid escape sequence: \\xed\xa0\x80"),
    ],
)
def test_what_re2_cannot_run_is_named_in_its_words(pattern: str, words: str) -> None:
    problem = pattern_problem(pattern)
    assert problem is not None and words in problem


@pytest.mark.parametrize("pattern", ["^(?=a)b$", r"^.{1,2000}$"])
def test_a_refused_pattern_names_no_provider(pattern: str) -> None:
    # "fal matches with Rust's regex" was said of a WaveSpeed contract's pattern (a review)
    problem = pattern_problem(pattern)
    assert problem is not None and "fal" not in problem


def test_python_unicode_escapes_are_matched_as_fal_matches_them() -> None:
    # RE2 writes \x{4e00}; pydantic, Python's re and jsonschema's check read \u4e00
    assert pattern_problem(r"^[\u4e00-\u9fff]+$") is None
    assert fullmatches(r"^[\u4e00-\u9fff]+$", "中文") and not fullmatches(r"[\u4e00]", "a")
    assert fullmatches(r"\U0001F600", "😀")
    assert fullmatches(r"\\u0041", "\\u0041") and not fullmatches(r"\\u0041", "\\A")


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        # fal's engine counts further: the cap is RE2's, and maxLength bounds a length
        (r"^.{1,2000}$", "repeats more than RE2 counts, 1,000"),
        (r"^(a{2}){600}$", "bound a length with maxLength"),
        # a class to RE2, a set of "[:alph" and a "]" to Python's re: never the same string
        (r"^[[:alpha:]]+$", "has a POSIX class"),
        (r"^[a[:^digit:]]$", "write the class out"),
    ],
)
def test_what_re2_reads_otherwise_than_fal_or_python_is_named(pattern: str, words: str) -> None:
    problem = pattern_problem(pattern)
    assert problem is not None and words in problem


def test_pattern_properties_and_additional_properties_match_names_in_linear_time() -> None:
    validator = contract_validator()(
        {"patternProperties": {BOMB: {"type": "integer"}}, "additionalProperties": False}
    )
    assert [e.message for e in validator.iter_errors({BOMBING: 1})] == [
        f"{BOMBING!r} does not match any of the regexes: {BOMB!r}"
    ]
    assert [e.message for e in validator.iter_errors({"aaa": "x"})] == [
        "'x' is not of type 'integer'"
    ]
    assert validator.is_valid({"aaaa": 1})


def test_additional_properties_without_patterns_name_the_extras() -> None:
    validator = contract_validator()({"properties": {"a": {}}, "additionalProperties": False})
    assert [e.message for e in validator.iter_errors({"a": 1, "c": 2, "b": 3})] == [
        "Additional properties are not allowed ('b', 'c' were unexpected)"
    ]
    typed = contract_validator()({"additionalProperties": {"type": "string"}})
    assert [list(e.path) for e in typed.iter_errors({"x": 1})] == [["x"]]
