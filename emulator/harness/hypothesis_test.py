"""A property as one Hypothesis test: its settings, its explicit examples, its database key.

Hypothesis's settings come from the active profile (``max_examples``, ``database``,
``derandomize``…), so a user's ``HYPOTHESIS_PROFILE`` applies. Each property has its own
database key, so a failure found once is tried first next time, by that property only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import hypothesis
from hypothesis import HealthCheck, Phase, example, given, settings

from emulator.harness.context import Context, Property, fullest, minimal, scenarios
from emulator.harness.options import Options
from emulator.harness.scenario import Scenario

__all__ = ["property_settings", "property_test"]


def property_settings(prop: Property, options: Options) -> settings:
    """The active profile's settings, as the harness runs ``prop`` under them."""
    profile = settings()
    return settings(
        profile,
        max_examples=options.max_examples or profile.max_examples,  # None: profile's
        # Hypothesis's explanation of a failure (which parts of it vary freely) reruns
        # the test hundreds of times, and the report does not show it: the harness
        # names its own simplest scenario (`_try_simpler`).
        phases=(
            [Phase.explicit]
            if prop.exhaustive
            else [phase for phase in profile.phases if phase is not Phase.explain]
        ),
        deadline=None,
        report_multiple_bugs=False,
        print_blob=False,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
    )


def property_test(
    prop: Property, context: Context, options: Options, judge: Callable[[Scenario], None]
) -> Callable[[], None]:
    """The Hypothesis test that gives ``judge`` each scenario of ``prop``: its forced ones
    (the fullest input, `Property.every`, `Property.explicit`) first, then its draws."""
    test = given(prop.scenarios(context, prop.name))(judge)
    simplest, fuller = minimal(context), fullest(context)
    if prop.scenarios is scenarios and fuller != simplest:  # valid inputs only
        test = example(Scenario(prop.name, fuller))(test)
    if prop.every is not None:
        for rules in reversed(prop.every(context)):
            test = example(Scenario(prop.name, simplest, faults=rules))(test)
    if prop.explicit is not None:
        for explicit in reversed(prop.explicit(context)):
            test = example(explicit)(test)
    test = property_settings(prop, options)(test)
    # Else Hypothesis derives the key (and, under derandomize, the seed) from the source of
    # ``judge``, one for every property, tokenizing it afresh at each property's run.
    key = f"{prop.name}:{context.provider}:{context.endpoint.id}".encode()
    test._hypothesis_internal_database_key = key  # type: ignore[attr-defined]
    seed = options.seed
    if seed is None and settings().derandomize:
        seed = int.from_bytes(hashlib.sha256(key).digest()[:8], "big")
    return test if seed is None else hypothesis.seed(seed)(test)
