"""What a newcomer is told of a model id no contract knows. Its answer stays the
provider's own 404 (as the real API words it, for parity); the advice goes to the log of
the emulator (the ``emulator`` logger: `serve`'s stderr, in-process the caller's logging):
once per id, for the first `ADVISED` ids, then a line saying that the rest are not."""

from __future__ import annotations

import logging
import threading

from emulator.contracts.checks import could_be_model

logger = logging.getLogger("emulator")
#: how many unknown ids are advised of (and remembered): a client trying ids in a loop
#: fills no log
ADVISED = 100
ADVICE = (
    "no contract knows the %s model %r, so it answers the provider's 404: "
    '`--unknown-endpoints generic` (EmulatorConfig(unknown_endpoints="generic")) answers '
    "any model id, or add its contract (docs/contracts.md)"
)


class UnknownIds:
    """The unknown model ids advised of, by provider."""

    def __init__(self) -> None:
        self._advised: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def note(self, provider: str, endpoint_id: str) -> None:
        """Advise, once, on ``provider``'s model ``endpoint_id`` that no contract knows
        (an id no model can have is only mistyped: no contract would serve it)."""
        if not could_be_model(provider, endpoint_id):
            return
        key = (provider, endpoint_id)
        with self._lock:
            if key in self._advised or len(self._advised) > ADVISED:
                return
            self._advised.add(key)
            full = len(self._advised) > ADVISED
        if full:  # one more than advised: the line saying so
            logger.warning("more model ids no contract knows: not advised of one by one")
        else:
            logger.warning(ADVICE, provider, endpoint_id)
