"""The package as users install it: complete, typed, and kind to their environment."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_package_is_listed_for_the_wheel() -> None:
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "emulator").rglob("__init__.py")
    }
    listed = set(PROJECT["tool"]["setuptools"]["packages"])
    assert listed == found | {"emulator._contracts"}


def test_runtime_dependencies_are_ranges_and_pytest_is_not_one() -> None:
    for requirement in PROJECT["project"]["dependencies"]:
        assert ">=" in requirement and "==" not in requirement, requirement
        assert not requirement.startswith("pytest"), "pytest is not needed at run time"


def test_the_version_is_one() -> None:
    from emulator import __version__

    assert PROJECT["project"]["version"] == __version__
    assert f"## [{__version__}]" in (ROOT / "CHANGELOG.md").read_text()
