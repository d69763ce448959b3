from emulator.core.excerpts import excerpt


def test_text_within_the_limit_is_shown_whole() -> None:
    assert excerpt("a" * 10, 10) == "a" * 10


def test_longer_text_is_cut_and_its_length_said() -> None:
    assert excerpt("abcdefghij" * 1000, 4) == "abcd… (10,000 characters)"
