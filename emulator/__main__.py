"""``python -m emulator``: the same as the ``provider-emulator`` command."""

import sys

from emulator.cli import main

sys.exit(main())
