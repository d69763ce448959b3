"""Two webhook senders on one shared store, both lent one real engine's jobs, as the
engine gives them to every worker: what the providers' shared-delivery tests run on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator import EmulatorConfig, Engine, ManualClock, Progression
from emulator.core.lifecycle import Phase
from emulator.core.shared_webhooks import JobAccess
from emulator.core.store import Store
from emulator.core.webhooks import WebhookSender


@pytest.fixture
def engine_and_senders(
    stores: tuple[Store, Store],
) -> Iterator[tuple[Engine, WebhookSender, WebhookSender]]:
    config = EmulatorConfig(seed=5, progression=Progression.parse("polls:1,1"))
    engine = Engine(config, clock=ManualClock())
    access = JobAccess(engine, engine.find, lambda job: engine.look(job).phase is Phase.DONE)
    senders = [WebhookSender(store=store) for store in stores]
    for sender in senders:
        sender.attach(access)
    yield engine, senders[0], senders[1]
    for sender in senders:
        sender.close()
    engine.close()
