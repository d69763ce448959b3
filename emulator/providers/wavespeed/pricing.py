"""What a WaveSpeed run costs, and charging its key for it.

A run costs what its contract publishes (``info.x-emulator-price``, per image, second or
call, counted from the run's input as the live harness's spend cap counts it), else the
contract's ``x-wavespeed-metadata.base_price`` a run, else a guessed default by kind.

A completed run is charged to its key once, in the engine's ledger, by whichever answer
first says it completed (its result, its webhook, the account APIs): the charge outlives
the job, so the balance never goes back up when the job passes ``--retention`` or is
evicted. A failed or cancelled run costs nothing; a deleted one was still paid for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.contracts.documents import Endpoint
from emulator.contracts.kinds import category_kind
from emulator.contracts.prices import Price, cost, published_price
from emulator.core.engine import Engine
from emulator.core.jobs import Job

#: GUESS: USD per run by the kind a model makes, when its contract names no price
DEFAULT_PRICES = {"image": 0.03, "video": 0.3, "audio": 0.02, "mesh": 0.2, None: 0.01}


def model_price(endpoint: Endpoint) -> Price:
    """The model's price: published in its contract, else its base price a run, else the
    guessed default of its kind a run."""
    published = published_price(endpoint)
    if published is not None:
        return published
    metadata = endpoint.document.get("info", {}).get("x-wavespeed-metadata", {})
    base = metadata.get("base_price")
    if isinstance(base, (int, float)) and not isinstance(base, bool):
        return Price(float(base), "call", "x-wavespeed-metadata.base_price")
    guess = DEFAULT_PRICES.get(category_kind(endpoint.category), DEFAULT_PRICES[None])
    return Price(guess, "call", "GUESS: the default of its kind")


def run_cost(endpoint: Endpoint, inputs: Any) -> float:
    """What one run with ``inputs`` costs: the price times the units the run uses, counted
    from the fields its contract declares (one it ignores, say ``num_images`` sent to a
    model that makes one image, makes nothing more and costs nothing more)."""
    declared = endpoint.resolve(endpoint.input_schema).get("properties", {})
    given = inputs if isinstance(inputs, Mapping) else {}
    return cost(endpoint, model_price(endpoint), {k: v for k, v in given.items() if k in declared})


def charge(engine: Engine, job: Job) -> None:
    """Charge completed ``job``'s key for it, unless it was charged already."""
    if not job.charged:  # nearly always, once it was: no price counted again
        engine.ledger.charge(job, run_cost(job.endpoint, job.payload))
