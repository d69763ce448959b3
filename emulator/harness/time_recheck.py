"""A call stopped for its time limit, run once more with longer: whether the client or a
busy machine took the time, for the report's notes."""

from __future__ import annotations

import time

from emulator.harness.guard import STILL_CALLING
from emulator.harness.properties import Context, Property
from emulator.harness.scenario import Scenario
from emulator.harness.session import Session

#: how many times its time limit a call stopped for taking too long is given once more
PATIENCE = 3


def recheck_time(
    prop: Property, context: Context, session: Session, scenario: Scenario
) -> str | None:
    """A call stopped for its time limit is run once more with `PATIENCE` times the limit:
    the limit counts wall-clock time, harness and emulator included, and a busy machine can
    run it out. The verdict stands; the note says what the longer run did (None: it ran on
    however long it was given)."""
    limit = session.time_limit(scenario)
    longer = session.time_limit(scenario, PATIENCE)
    began = time.monotonic()
    seen = session.run(scenario, patience=PATIENCE)
    took = time.monotonic() - began
    if seen.ran_away is not None and STILL_CALLING in seen.ran_away:
        return None
    if seen.ran_away is not None:  # stopped for another bound: a loop, not the machine
        return (
            f"run again with {longer:g} s rather than {limit:g} s, the call was "
            f"stopped again after {took:.1f} s, for {seen.ran_away}: the client keeps "
            "calling, however long it is given"
        )
    verdict = "failed otherwise" if prop.judge(context, seen) else "held"
    retried = seen.retried()
    cause = (
        f"the client's own retries took the time: it sent {len(retried)} request(s) again "
        f"after an error answer (e.g. {retried[0].method} {retried[0].path}: "
        f"{retried[0].status})"
        if retried
        else "the machine may have been too busy for the call's time limit"
    )
    return (
        f"run again with {longer:g} s rather than {limit:g} s, the call ended after "
        f"{took:.1f} s and {verdict}: {cause} (raise the limit: --call-timeout, "
        "Limits(call_timeout=...))"
    )
