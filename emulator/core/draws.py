"""The random draws of one submission: its id, its seed and its spans.

They come from a hash of the emulator's salt and the submission's number alone, so that
the n-th job of a seed is the same whichever process of several sharing a store accepts
it. A `random.Random` seeded with that text cost about 4.5 µs per submission (a tenth of
a fal submit in-process), spent setting up a generator for three draws; a BLAKE2b digest
holds enough bits for them at a tenth of the cost.
"""

from __future__ import annotations

import hashlib

#: the bits one submission's digest holds: an id (128), a seed and two spans (64 each)
_BITS = 512


class Draws:
    """Deterministic random bits for one submission, drawn in order from a digest."""

    def __init__(self, key: str) -> None:
        digest = hashlib.blake2b(key.encode(), digest_size=_BITS // 8).digest()
        self._bits = int.from_bytes(digest, "big")
        self._left = _BITS

    def getrandbits(self, count: int) -> int:
        """The next ``count`` bits, as a non-negative integer."""
        if count > self._left:
            raise ValueError(f"a submission's draws hold {_BITS} bits")
        self._left -= count
        return (self._bits >> self._left) & ((1 << count) - 1)

    def randrange(self, start: int, stop: int) -> int:
        """An integer in ``[start, stop)`` (from 64 bits: a bias below 2⁻³² for any range
        a seed uses)."""
        return start + self.getrandbits(64) % (stop - start)

    def uniform(self, low: float, high: float) -> float:
        """A float in ``[low, high)``, with 53 bits of randomness (a float's precision)."""
        return low + (high - low) * (self.getrandbits(53) / 2**53)
