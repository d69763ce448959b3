"""The docker compose example (examples/docker-compose) is a deployment that would start:
its YAML parses, each emulator service's command and environment are settings `serve`
accepts for several workers, and every name it refers to (the Redis service, volumes, the
Dockerfile) exists. No docker daemon is needed."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from emulator import serve, serve_flags

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "examples" / "docker-compose"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((EXAMPLE / "compose.yaml").read_text(encoding="utf-8"))


def _emulators(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in compose["services"].items() if name.startswith("emulator")}


def _serve_arguments(command: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    serve_flags.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["serve", *command])


def test_every_emulator_service_is_a_multi_worker_serve_on_the_redis_service(
    compose: dict[str, Any],
) -> None:
    emulators = _emulators(compose)
    assert len(emulators) >= 2
    for name, service in emulators.items():
        environ = {k: str(v) for k, v in service["environment"].items()}
        chosen, server = serve_flags.settings(_serve_arguments(service["command"]), environ)
        serve.check_workers(server["workers"], chosen.config, _serve_arguments([]))
        assert server["workers"] > 1, name
        state = urlsplit(chosen.config.state_url)
        assert state.scheme == "redis" and state.hostname in compose["services"], name
        assert service["depends_on"][state.hostname]["condition"] == "service_healthy"
        assert "healthcheck" in compose["services"][state.hostname]
        assert environ["PROVIDER_EMULATOR_ADMIN_TOKEN"].startswith("${"), "one token, given"


def test_the_replicas_share_their_uploads_and_differ_in_their_ports(
    compose: dict[str, Any],
) -> None:
    emulators = _emulators(compose).values()
    mounts = {
        (s["volumes"][0], s["environment"]["PROVIDER_EMULATOR_STORAGE_DIR"]) for s in emulators
    }
    assert len(mounts) == 1, "every replica mounts the one uploads volume as its storage dir"
    ((mount, storage_dir),) = mounts
    volume, _, target = mount.partition(":")
    assert volume in compose["volumes"] and target == storage_dir
    host_ports = [port.split(":")[0] for s in emulators for port in s["ports"]]
    assert len(host_ports) == len(set(host_ports))
    redis = compose["services"]["redis"]
    assert redis["image"].startswith("redis:7")
    assert {v.split(":")[0] for v in redis["volumes"]} <= set(compose["volumes"])


def test_the_image_it_builds_exists_and_has_the_redis_extra(compose: dict[str, Any]) -> None:
    for service in _emulators(compose).values():
        dockerfile = (EXAMPLE / service["build"] / "Dockerfile").read_text(encoding="utf-8")
        assert '"./[redis]"' in dockerfile


def test_the_dockerfile_copies_everything_the_package_is_built_from() -> None:
    """No daemon builds the image here, so check what its build reads is in it: the
    project file, the readme it names, the package and each folder mapped into it
    (``catalogue/`` ships as ``emulator._catalogue``: without it the build fails)."""
    import tomllib

    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    copied = {
        Path(source).as_posix()
        for line in dockerfile.splitlines()
        if line.startswith("COPY ")
        for source in line.split()[1:-1]
    }
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    mapped = project["tool"]["setuptools"]["package-dir"].values()
    needed = {"pyproject.toml", project["project"]["readme"], "emulator", *mapped}
    assert needed <= copied, f"the Dockerfile does not copy {sorted(needed - copied)}"


def _run_commands(dockerfile: str) -> list[list[str]]:
    """The words of each command of the Dockerfile's RUN instructions."""
    joined = dockerfile.replace("\\\n", " ")
    return [
        shlex.split(command)
        for line in joined.splitlines()
        if line.startswith("RUN ")
        for command in line.removeprefix("RUN ").split("&&")
    ]


def test_the_image_makes_each_folder_compose_mounts_and_gives_it_its_user(
    compose: dict[str, Any],
) -> None:
    """Docker makes a mount point the image lacks root's, and the image's user could not
    write its uploads there (each upload beyond the inline size was a 500): the image
    makes every folder the emulators mount, owned by the user it runs as."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    user = re.findall(r"^USER (\S+)$", dockerfile, re.MULTILINE)[-1]
    commands = _run_commands(dockerfile)
    made = {word for words in commands if words[0] == "mkdir" for word in words[1:]}
    owned = {
        folder
        for words in commands
        if words[0] == "chown" and words[1].split(":")[0] == user
        for folder in words[2:]
    }
    mounted = {
        volume.split(":")[1] for s in _emulators(compose).values() for volume in s["volumes"]
    }
    ready = made & owned
    assert mounted and mounted <= ready, f"not made the user's: {sorted(mounted - ready)}"
