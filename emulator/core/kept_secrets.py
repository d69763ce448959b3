"""Secrets no seed derives: the keys of tokens a caller holds as a credential.

`Engine.secret` derives its keys from the seed, so a run replays; but a seed is no secret
(`--seed 1` is in our own CI example), and whoever knows it could forge a token signed with
such a key. These are random instead: one per process for its own state, one per store for
a shared one, so every worker (and a restarted one) accepts what another issued.
"""

from __future__ import annotations

import secrets

from emulator.core.store import Store

#: this process's own keys, by name: they outlive a reset, as a token outlives one at fal
_PROCESS_KEYS: dict[str, bytes] = {}


class KeptSecrets:
    """32 random bytes a name, made at the first ask and the same ever after."""

    def __init__(self, store: Store | None) -> None:
        self._store = store
        self._known: dict[str, bytes] = {}

    def __call__(self, name: str) -> bytes:
        known = self._known.get(name)
        if known is None:
            if self._store is None:
                known = _PROCESS_KEYS.setdefault(name, secrets.token_bytes(32))
            else:  # set if absent, then read: whoever asked first made it
                known = self._store.kept_secret(name)
            self._known[name] = known
        return known
