import pytest

from emulator import ManualClock, WallClock


def test_manual_clock_moves_only_when_advanced() -> None:
    clock = ManualClock(start=5.0, wall_start=1000.0)
    assert (clock.now(), clock.wall()) == (5.0, 1000.0)
    clock.advance(2.5)
    assert (clock.now(), clock.wall()) == (7.5, 1002.5)
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_wall_clock_is_monotonic() -> None:
    clock = WallClock()
    assert clock.now() <= clock.now()
