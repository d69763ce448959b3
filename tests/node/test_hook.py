"""The Node hook's own table and its place in the package (emulator/node/). The hook itself
runs under the real npm clients in tests/clients/test_node_hook.py (slow)."""

from __future__ import annotations

import json

from emulator.node import HOOK
from emulator.providers.registry import HOST_SURFACES


def test_the_hooks_host_table_is_the_registrys() -> None:
    # The hook cannot import Python: it reads this copy, which must not drift.
    table = json.loads(HOOK.with_name("hosts.json").read_text())
    expected = json.dumps(dict(sorted(HOST_SURFACES.items())), indent=2)
    assert table == HOST_SURFACES, f"write emulator/node/hosts.json as:\n{expected}"
