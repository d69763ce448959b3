"""Whether a submit is made off the event loop: when its input is large and goes to a
shared store.

On a shared store a submit writes its input there: a 19 MB input took about 3 s to write
to SQLite (``--data-dir``), and on the event loop every other key's polls waited for it
(an audit). Small inputs, nearly all, are written at once: a hand-over to a worker thread
costs more than their write.
"""

from __future__ import annotations

from starlette.types import Scope

from emulator.core.engine import Engine
from emulator.http.asgi import BODY

#: the input size from which a submit to a shared store is written from a worker thread
OFFLOADED_BYTES = 256 * 1024


def offloads(engine: Engine, scope: Scope) -> bool:
    """Whether the submit in ``scope`` is made in a worker thread: by its body's size,
    what is written (not what the budgets count its input to weigh, `retained_size`)."""
    return engine.store is not None and len(scope.get(BODY, b"")) >= OFFLOADED_BYTES
