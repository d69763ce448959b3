"""A client under test that is a command, in any language: `CommandClient` makes it the
``generate(endpoint_id, arguments)`` callable the harness takes.

The protocol (docs/harness.md): the command gets ``{"endpoint": ..., "arguments": ...}`` as
JSON on stdin, prints the output as JSON on stdout (the whole of it, or its last line) and
exits 0; or exits non-zero to report a failure, what it wrote to stderr the message (its
error's own line first, where a stack trace has one: ``ValidationError: …``).
Each call runs the command once, with ``PROVIDER_EMULATOR_URL`` naming a loopback port
where the harness's emulation answers (relay.py), the Node hook in ``NODE_OPTIONS`` (so
the unmodified JavaScript clients reach it), ``PROVIDER_EMULATOR_UNMATCHED=fail`` (any
other host fails) and test keys in ``FAL_KEY`` and ``WAVESPEED_API_KEY``. A command still
running at its timeout is killed, its whole process group with it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from emulator.clients import FAKE_CREDENTIALS
from emulator.harness.guard import STILL_CALLING, call_time_limit, require_number
from emulator.harness.ran_away import ClientRanAway
from emulator.harness.relay import Relay
from emulator.node import HOOK

__all__ = ["CommandClient", "CommandFailed"]

#: how long a killed command's pipes are read for before they are given up
_AFTER_KILL_SECONDS = 5.0


class CommandFailed(Exception):
    """The command reported a failure (exited non-zero), or no output (no JSON)."""


class CommandClient:
    """``generate(endpoint_id, arguments)`` that runs ``command`` once per call."""

    def __init__(
        self,
        command: str | Sequence[str],
        *,
        timeout: float | None = None,
        cwd: Path | str | None = None,
    ) -> None:
        """``command``: a shell-like line (split as a shell would, not run by one) or its
        words; ``timeout``: the seconds a call may take before the command is killed
        (default: the harness's time limit for the call, ``Limits(call_timeout=...)``, and
        the longer one of a busy machine's recheck); ``cwd``: where it runs (default:
        here)."""
        self.words = shlex.split(command) if isinstance(command, str) else list(command)
        if not self.words:
            raise ValueError("the command is empty")
        _require_runnable(self.words[0], cwd)
        if timeout is not None:
            require_number("timeout", timeout)
        self.timeout, self.cwd = timeout, cwd

    @property
    def target(self) -> str:
        """How a replay line names this client: one word, as the CLI reads it."""
        return "--command=" + shlex.join(self.words)

    def __repr__(self) -> str:
        return f"CommandClient({shlex.join(self.words)!r})"

    def __call__(self, endpoint_id: str, arguments: Any) -> Any:
        request = json.dumps({"endpoint": endpoint_id, "arguments": arguments}).encode()
        timeout = call_time_limit() if self.timeout is None else self.timeout
        with Relay(timeout) as relay:
            process = subprocess.Popen(
                self.words,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=self.cwd,
                env=self._environment(relay.url),
                start_new_session=True,  # its own process group: killed whole
            )
            relay.when_stopped(lambda: _kill(process))
            try:
                out, err = process.communicate(request, timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill(process)
                out, err = _drained(process)
                if relay.stopped is None:
                    raise ClientRanAway(f"{STILL_CALLING} {timeout:g} s (killed)") from None
            finally:
                _kill(process)  # what it left running (a child, a poller) ends with the call
        if relay.stopped is not None:
            raise ClientRanAway(str(relay.stopped))
        if relay.failure is not None:
            raise relay.failure
        if process.returncode != 0:
            raise CommandFailed(_reported(err) or f"exited with status {process.returncode}")
        return _output(out)

    def _environment(self, url: str) -> dict[str, str]:
        environment = {**os.environ, **FAKE_CREDENTIALS, "PROVIDER_EMULATOR_URL": url}
        # whatever the caller's is: the Node hook fails a request to any other host, so that
        # nothing a command sends leaves the machine
        environment["PROVIDER_EMULATOR_UNMATCHED"] = "fail"
        # NODE_OPTIONS splits on spaces, but for double quotes
        hook = f'--import="{HOOK}"'
        environment["NODE_OPTIONS"] = f"{os.environ.get('NODE_OPTIONS', '')} {hook}".strip()
        return environment


def _require_runnable(program: str, cwd: Path | str | None) -> None:
    """Refuse a program that cannot run, at once: each call would fail the same way, under
    every property, rather than as a usage error."""
    if os.sep not in program:
        if shutil.which(program) is None:
            raise ValueError(f"no program {program!r} on PATH")
        return
    path = Path(cwd or ".", program)  # (an absolute program stays itself)
    if not path.is_file():
        raise ValueError(f"no program {program!r}" + (f" in {cwd}" if cwd else ""))
    if not os.access(path, os.X_OK):
        raise ValueError(f"{program!r} is not executable (chmod +x, or name its interpreter)")


def _kill(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:  # the group has ended
        pass


def _drained(process: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    """What a killed command wrote, and the command reaped. A grandchild that left its
    process group (``setsid sleep 20 &``) survives the kill holding stdout open: its pipes
    are then given up, unread."""
    try:
        return process.communicate(timeout=_AFTER_KILL_SECONDS)
    except subprocess.TimeoutExpired:
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
        process.wait()
        return b"", b""


def _reported(err: bytes) -> str:
    """What a failed command wrote to stderr (its last `MAX_REPORTED` characters), its
    error's line first where it has one; Node's closing ``Node.js v20.1.0`` line left out.
    An uncaught error in Node ends with that line, which said nothing as the message."""
    lines = [line.rstrip() for line in err.decode(errors="replace").strip().splitlines()]
    lines = [line for line in lines if not _NODE_VERSION.fullmatch(line)]
    text = "\n".join(lines).strip()[-MAX_REPORTED:]
    errors = [line.strip() for line in lines if _ERROR_LINE.match(line.strip())]
    return f"{errors[-1]}\n{text}" if errors and not text.startswith(errors[-1]) else text


#: the most of a failed command's stderr its error keeps, in characters
MAX_REPORTED = 4000
_NODE_VERSION = re.compile(r"Node\.js v[0-9.]+")
#: a line that names an error: ``ValidationError: …``, ``fal.ApiError: …``
_ERROR_LINE = re.compile(r"[A-Za-z_][\w.]*(?:Error|Exception)\b[^:\n]{0,80}:")


def _last_line(text: bytes) -> str:
    lines = text.decode(errors="replace").strip().splitlines()
    return lines[-1].strip() if lines else ""


def _output(out: bytes) -> Any:
    """The output the command printed: all of stdout as JSON, else its last line."""
    text = out.decode(errors="replace")
    for candidate in (text, _last_line(out)):
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    raise CommandFailed(f"exited 0 but printed no JSON on stdout: {text[-200:]!r}")
