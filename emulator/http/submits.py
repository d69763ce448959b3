"""Whether a submit is made off the event loop: when its input is large and goes to a
shared store.

On a shared store a submit writes its input there: a 19 MB input took about 3 s to write
to SQLite (``--data-dir``), and on the event loop every other key's polls waited for it
(an audit). Small inputs, nearly all, are written at once: a hand-over to a worker thread
costs more than their write.
"""

from __future__ import annotations

from emulator.core.engine import Engine

#: the input size from which a submit to a shared store is written from a worker thread
OFFLOADED_BYTES = 256 * 1024


def offloads(engine: Engine, size: int) -> bool:
    """Whether a submit of an input of ``size`` bytes is made in a worker thread."""
    return engine.store is not None and size >= OFFLOADED_BYTES
