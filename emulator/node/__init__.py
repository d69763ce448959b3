"""The Node hook: run the unmodified JavaScript clients with ``node --import`` it (or
``NODE_OPTIONS=--import=…``) and every request they make for a provider's real host goes to
the emulator at ``$PROVIDER_EMULATOR_URL`` (docs/javascript.md). The hook is an ES module
installed with the package; ``provider-emulator node-hook`` prints its path."""

from __future__ import annotations

from pathlib import Path

#: the hook itself; beside it, hosts.json: the registry's real host → surface table
HOOK = Path(__file__).with_name("hook.mjs")
