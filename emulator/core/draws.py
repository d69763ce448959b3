"""The random draws of one submission: its id, its seed and its spans.

They come from a hash of the emulator's salt and the submission's number alone, so that
the n-th job of a seed is the same whichever process of several sharing a store accepts
it. A `random.Random` seeded with that text cost about 4.5 µs per submission (a tenth of
a fal submit in-process), spent setting up a generator for three draws; a BLAKE2b digest
holds enough bits for them at a tenth of the cost. The id, drawn first, is the hex of the
digest's first bytes; the other draws shift the digest read as one integer, made at the
first of them (issue 17: formatting the id from that integer cost more than the hash).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

#: the bits one submission's digest holds: an id (128), a seed and two spans (64 each)
_BITS = 512


#: a UUID's bits without its variant and version fields, and those fields for version 4
#: (RFC 4122 variant), as ``uuid.UUID(int=…, version=4)`` sets them
_UNVERSIONED = ~((0xC000 << 48) | (0xF000 << 64)) & (2**128 - 1)
_VERSION_4 = (0x8000 << 48) | (4 << 76)
#: the variant's hex digit for each value of the high nibble of a UUID's ninth byte
_VARIANT_DIGIT = "89ab" * 4


class Draws:
    """Deterministic random bits for one submission, drawn in order from a digest."""

    __slots__ = ("_digest", "_bits", "_left")

    def __init__(self, key: str) -> None:
        self._digest = hashlib.blake2b(key.encode(), digest_size=_BITS // 8).digest()
        self._bits: int | None = None  # the digest as one integer, once a draw needs it
        self._left = _BITS

    def getrandbits(self, count: int) -> int:
        """The next ``count`` bits, as a non-negative integer."""
        if count > self._left:
            raise ValueError(f"a submission's draws hold {_BITS} bits")
        bits = self._bits
        if bits is None:
            bits = self._bits = int.from_bytes(self._digest, "big")
        self._left -= count
        return (bits >> self._left) & ((1 << count) - 1)

    def uuid4(self) -> str:
        """A version-4 UUID's text from the next 128 bits (`uuid4_text`)."""
        if self._left != _BITS:
            return uuid4_text(self.getrandbits(128))
        # the first draw: the hex digits of 16 whole bytes, the version's and variant's set
        self._left -= 128
        text = self._digest[:16].hex()
        variant = _VARIANT_DIGIT[self._digest[8] >> 4]
        return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-{variant}{text[17:20]}-{text[20:]}"

    def randrange(self, start: int, stop: int) -> int:
        """An integer in ``[start, stop)`` (from 64 bits: a bias below 2⁻³² for any range
        a seed uses)."""
        return start + self.getrandbits(64) % (stop - start)

    def uniform(self, low: float, high: float) -> float:
        """A float in ``[low, high)``, with 53 bits of randomness (a float's precision)."""
        return low + (high - low) * (self.getrandbits(53) / 2**53)

    def seed(self, payload: Any) -> int:
        """The seed the input ``payload`` asks for (a whole number, 0 or more), else one
        drawn."""
        given = payload.get("seed") if isinstance(payload, dict) else None
        if isinstance(given, float) and given.is_integer():
            given = int(given)
        return given if type(given) is int and given >= 0 else self.randrange(0, 2**31 - 1)


def uuid4_text(bits: int) -> str:
    """What ``str(uuid.UUID(int=bits, version=4))`` gives, without making the object (a
    third of the cost, on every submission)."""
    text = f"{bits & _UNVERSIONED | _VERSION_4:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def salt_for(seed: int | None) -> str:
    """What ids, media and secrets are derived from: the seed, else something fresh."""
    return str(seed) if seed is not None else secrets.token_hex(16)
