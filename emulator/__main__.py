"""``python -m emulator`` and the ``provider-emulator`` command: the command line
(``cli.py``), loaded with the cyclic collector paused."""

from __future__ import annotations

import gc
import logging
import os
import sys
from contextlib import suppress

FENCE = "emulator.harness.fence"


def main() -> int:
    """The command line, its modules loaded with the collector paused: they make some
    55,000 objects that live as long as the process and free few, and the collector's
    passes over them took 6-8 % of ``serve``'s start-up (issue 17). Each command resumes
    it once it has loaded what it runs (`cli.main`; ``serve`` once its app is built)."""
    gc.disable()
    # (Loaded already only in a process of tests, where the fence may hold another test's
    # work: that process is not this command's to end.)
    harness_loaded = FENCE in sys.modules
    from emulator.cli import main as command_line

    code = command_line()
    if not harness_loaded:
        _end_now_if_work_is_fenced(code)
    return code


def _end_now_if_work_is_fenced(code: int) -> None:
    """End the process at once if ``conformance`` left work of the client's running behind
    the harness's fence (harness/fence.py): it can reach nothing, but Python would wait
    for it at exit (fal_client's pool joins its workers, whose pollers sleep up to 30 s
    between tries), long after the verdict."""
    fence = sys.modules.get(FENCE)  # not loaded (nor its cost paid) by the other commands
    if fence is None or not fence.fenced():
        return
    logging.shutdown()
    with suppress(OSError):  # a reader gone (`… | head`) has what it wanted
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
