"""``python -m emulator`` and the ``provider-emulator`` command: the command line
(``cli.py``), loaded with the cyclic collector paused."""

from __future__ import annotations

import gc
import sys


def main() -> int:
    """The command line, its modules loaded with the collector paused: they make some
    55,000 objects that live as long as the process and free few, and the collector's
    passes over them took 6-8 % of ``serve``'s start-up (issue 17). Each command resumes
    it once it has loaded what it runs (`cli.main`; ``serve`` once its app is built)."""
    gc.disable()
    from emulator.cli import main as command_line

    return command_line()


if __name__ == "__main__":
    sys.exit(main())
